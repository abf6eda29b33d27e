from __future__ import annotations

from pathlib import Path

import nbformat

from celldino_utils.runner.parameters_cell import fold_parameters, folded_source

OWN = '''hpa_data = "data/hpa"  # the fields, µm scale
seeds = [0, 1, 2]
class_groups = {
    "Nucleoli": "Nucleus",
    "Cytosol": "Cytosol",
}  # coarse classes
out_dir = "figures"'''


def test_changed_values_are_written_in_place_with_their_comments() -> None:
    injected = '# Parameters\nhpa_data = "/data/tiny/hpa"\nseeds = [0, 1, 2]\nclass_groups = None\nextra = 3\n'
    assert folded_source(OWN, injected).splitlines() == [
        'hpa_data = "/data/tiny/hpa"  # the fields, µm scale',
        "seeds = [0, 1, 2]",
        "class_groups = None  # coarse classes",
        'out_dir = "figures"',
        "extra = 3",
    ]


def test_an_executed_notebook_keeps_one_parameters_cell(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell(OWN, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('# Parameters\nout_dir = "/tmp/x"\n', metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(out_dir)"),
    ]
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    fold_parameters(path)
    cells = nbformat.read(path, as_version=4).cells
    assert [cell.source.splitlines()[-1] for cell in cells] == ["# Title", 'out_dir = "/tmp/x"', "print(out_dir)"]
    assert cells[1].metadata.tags == ["parameters"]
    fold_parameters(path)  # nothing injected left: unchanged
    assert len(nbformat.read(path, as_version=4).cells) == 3


def test_a_long_dict_is_written_one_entry_a_line() -> None:
    own = 'inputs = {"a": "x.parquet"}  # method -> file'
    long = {f"method {i}": f"/a/long/folder/of/the/run/embeddings_{i}.parquet" for i in range(3)}
    injected = "inputs = {" + ", ".join(f'"{k}": "{v}"' for k, v in long.items()) + "}"
    assert folded_source(own, injected).splitlines() == [
        "inputs = {",
        *[f'    "{k}": "{v}",' for k, v in long.items()],
        "}  # method -> file",
    ]
