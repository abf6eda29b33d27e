"""The Cell Painting chain on tiny synthetic plates: aggregate, normalise, select, sphere, consensus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from celldino_utils.correct import (
    aggregate_wells,
    consensus,
    normalize_plates,
    select_features,
    sphere,
    sphering,
    sphering_from_cells,
)
from celldino_utils.evaluate import replicate_map
from celldino_utils.io.profiles import to_profiles

DMSO = "Metadata_broad_sample == 'DMSO'"


def _plates(n_plates: int = 4, n_dmso: int = 12, n_compounds: int = 6, n_features: int = 16) -> pd.DataFrame:
    """Wells: per plate ``n_dmso`` DMSO wells and one well per compound, a plate offset, and a
    strong nuisance direction (cell count, say) that varies from well to well, DMSO included."""
    rng = np.random.default_rng(0)
    rows = [("DMSO", 0.0, "control")] * n_dmso + [(f"BRD{c}", 1.0, f"moa{c % 3}") for c in range(n_compounds)]
    meta = pd.DataFrame(
        [(f"P{p}", f"W{w:02d}", *row) for p in range(n_plates) for w, row in enumerate(rows)],
        columns=["Plate", "Well", "broad_sample", "mmoles_per_liter", "moa"],
    )
    compound = np.array([0 if b == "DMSO" else int(b[3:]) + 1 for b in meta["broad_sample"]])
    signal = rng.normal(size=(n_compounds + 1, n_features)) * 0.8
    signal[0] = 0.0
    plate = rng.normal(size=(n_plates, n_features))[meta["Plate"].str[1:].astype(int)]
    nuisance = rng.normal(size=(len(meta), 1)) * 6.0 * rng.normal(size=(1, n_features))
    values = rng.normal(size=(len(meta), n_features)) * 0.5 + signal[compound] + plate + nuisance
    return to_profiles(meta, values)


def test_aggregate_wells_matches_a_hand_median_and_keeps_well_metadata() -> None:
    cells = pd.DataFrame(
        {
            "Metadata_Plate": ["P1", "P1", "P1", "P1", "P1"],
            "Metadata_Well": ["A01", "A01", "A01", "B01", "B01"],
            "Metadata_moa": ["x", "x", "x", "y", "y"],
            "Metadata_ObjectNumber": [1, 2, 3, 1, 2],
            "emb_0000": [1.0, 5.0, 2.0, 10.0, 20.0],
            "emb_0001": [0.0, -1.0, 4.0, 3.0, 3.0],
        }
    )
    wells = aggregate_wells(cells)
    assert list(wells.columns) == ["Metadata_Plate", "Metadata_Well", "Metadata_moa", "emb_0000", "emb_0001"]
    np.testing.assert_allclose(wells[["emb_0000", "emb_0001"]].to_numpy(), [[2.0, 0.0], [15.0, 3.0]])
    assert wells["Metadata_moa"].tolist() == ["x", "y"]


def test_aggregate_wells_refuses_nan_and_missing_strata() -> None:
    cells = _plates()
    with pytest.raises(ValueError, match=r"Metadata_Site.*available Metadata_ columns"):
        aggregate_wells(cells, strata=("Metadata_Plate", "Metadata_Site"))
    cells.loc[[0, 3], "emb_0002"] = np.nan
    with pytest.raises(ValueError, match=r"2 row\(s\) hold NaN.*emb_0002"):
        aggregate_wells(cells)


def test_normalize_plates_centres_and_scales_on_each_plates_controls() -> None:
    wells = _plates()
    normalized = normalize_plates(wells, control_query=DMSO)
    assert normalized.index.equals(wells.index)
    assert normalized["Metadata_Well"].equals(wells["Metadata_Well"])
    for _, plate in normalized.groupby("Metadata_Plate"):
        controls = plate.query(DMSO).filter(like="emb_")
        np.testing.assert_allclose(controls.median(), 0.0, atol=1e-9)
        mad = (controls - controls.median()).abs().median() * 1.4826
        np.testing.assert_allclose(mad, 1.0, rtol=1e-6)


def test_normalize_plates_on_the_whole_plate_and_the_chain_defaults_to_it() -> None:
    wells = _plates()
    normalized = normalize_plates(wells, control_query=None)  # LINCS: normalised by whole plate
    for _, plate in normalized.groupby("Metadata_Plate"):
        features = plate.filter(like="emb_")
        np.testing.assert_allclose(features.median(), 0.0, atol=1e-9)
        np.testing.assert_allclose((features - features.median()).abs().median() * 1.4826, 1.0, rtol=1e-6)
    chain = sphering(wells, control_query=DMSO, feature_operations=())
    by_hand = sphering(normalized, control_query=DMSO, normalize_method=None, feature_operations=())
    pd.testing.assert_frame_equal(chain, by_hand)
    on_dmso = sphering(wells, control_query=DMSO, normalize_query=DMSO, feature_operations=())
    assert not np.allclose(on_dmso.filter(like="emb_"), chain.filter(like="emb_"))


def test_normalize_plates_needs_two_controls_per_plate() -> None:
    wells = _plates()
    keep = ~((wells["Metadata_Plate"] == "P2") & (wells["Metadata_broad_sample"] == "DMSO"))
    keep.loc[wells.query("Metadata_Plate == 'P2' and Metadata_broad_sample == 'DMSO'").index[0]] = True
    with pytest.raises(ValueError, match=r"at least 2 control wells per plate.*\{'P2': 1\}"):
        normalize_plates(wells.loc[keep], control_query=DMSO)
    with pytest.raises(ValueError, match=r"control_query=.*matches none"):
        normalize_plates(wells, control_query="Metadata_broad_sample == 'dmso'")
    with pytest.raises(ValueError, match=r"control_query=.*does not evaluate.*available Metadata_ columns"):
        normalize_plates(wells, control_query="Metadata_pert_type == 'control'")


def test_select_features_drops_constant_correlated_and_nan_columns() -> None:
    wells = _plates()
    wells["emb_9000"] = 3.0
    wells["emb_9001"] = wells["emb_0000"] * 2.0 + 1.0
    wells["emb_9002"] = np.where(np.arange(len(wells)) % 3 == 0, np.nan, 1.0)
    selected = select_features(wells, corr_threshold=0.99)
    assert {"emb_9000", "emb_9002"} <= set(selected.attrs["dropped_features"])
    assert not {"emb_0000", "emb_9001"} <= set(selected.columns)
    assert selected.index.equals(wells.index)
    with pytest.raises(ValueError, match=r"row\(s\) hold NaN.*emb_9002"):
        select_features(wells, operations=("variance_threshold",))


def test_sphere_whitens_the_controls() -> None:
    wells = normalize_plates(_plates(n_dmso=12), control_query=DMSO)  # 48 DMSO wells > 16 features
    sphered = sphere(wells, control_query=DMSO, epsilon=1e-9)
    assert list(sphered.columns) == list(wells.columns)  # ZCA keeps the feature names
    controls = sphered.query(DMSO).filter(like="emb_").to_numpy()
    np.testing.assert_allclose(controls.mean(axis=0), 0.0, atol=1e-8)
    np.testing.assert_allclose(np.cov(controls, rowvar=False), np.eye(16), atol=1e-5)


def test_sphere_reduces_to_half_as_many_dimensions_as_controls() -> None:
    wells = _plates(n_plates=2, n_dmso=6, n_features=30)  # 12 DMSO wells, 30 features
    sphered = sphere(wells, control_query=DMSO)
    assert list(sphered.columns[5:]) == [f"pca_{i:04d}" for i in range(6)]
    assert list(sphere(wells, control_query=DMSO, n_components=11).columns[5:]) == [f"pca_{i:04d}" for i in range(11)]
    pca_whitened = sphere(wells, control_query=DMSO, n_components=5, method="PCA")
    assert list(pca_whitened.columns[5:]) == [f"sphered_{i:04d}" for i in range(5)]
    with pytest.raises(ValueError, match=r"needs more control wells than dimensions \(at least 21\).*matches 12"):
        sphere(wells, control_query=DMSO, n_components=20)


def test_sphering_raises_replicate_map_against_dmso() -> None:
    wells = _plates()
    normalized = normalize_plates(wells, control_query=DMSO)  # plate offsets gone, nuisance direction left
    before = replicate_map(normalized, control_query=DMSO, null_size=200)["mean_average_precision"].mean()
    corrected = sphering(wells, control_query=DMSO, feature_operations=("variance_threshold",))
    after = replicate_map(corrected, control_query=DMSO, null_size=200)["mean_average_precision"].mean()
    assert after > before + 0.2
    assert corrected[["Metadata_Plate", "Metadata_Well"]].equals(wells[["Metadata_Plate", "Metadata_Well"]])


def test_sphering_from_cells_aggregates_first() -> None:
    wells = _plates(n_plates=2, n_dmso=8, n_features=6)
    cells = pd.concat([wells, wells.assign(**{c: wells[c] + 0.1 for c in wells.filter(like="emb_")})])
    sphered = sphering_from_cells(cells, control_query=DMSO, feature_operations=())
    assert len(sphered) == len(wells)
    assert sphered["Metadata_moa"].notna().all()


def test_consensus_takes_the_median_of_replicates_and_keeps_the_moa() -> None:
    wells = _plates()
    treated = wells.query("Metadata_broad_sample != 'DMSO'")
    merged = consensus(treated)
    assert len(merged) == 6
    assert list(merged.columns[:2]) == ["Metadata_broad_sample", "Metadata_mmoles_per_liter"]
    assert "Metadata_moa" in merged.columns and "Metadata_Plate" not in merged.columns  # plate varies
    expected = treated.query("Metadata_broad_sample == 'BRD3'")["emb_0004"].median()
    assert merged.set_index("Metadata_broad_sample").loc["BRD3", "emb_0004"] == pytest.approx(expected)


def test_zero_mad_features_raise_or_are_dropped_and_listed() -> None:
    wells = _plates()
    controls = wells["Metadata_broad_sample"] == "DMSO"
    wells.loc[controls, "emb_0003"] = 1.0  # constant on the controls, varies on the treated wells
    with pytest.raises(ValueError, match=r"\['emb_0003'\].*zero MAD.*zero_mad='drop'"):
        normalize_plates(wells, control_query=DMSO)
    normalized = normalize_plates(wells, control_query=DMSO, zero_mad="drop")
    assert "emb_0003" not in normalized.columns and len(normalized) == len(wells)
    assert normalized.attrs["dropped_features"] == ["emb_0003"]
