"""Cell augmentations: the SPEC §2 rules, determinism per seed, shapes, the evaluation transform."""

from __future__ import annotations

import pytest
import torch

from celldino_utils.augment import (
    EvalTransform,
    MultiCropAugmentation,
    collate_crops,
    drop_channel,
    jitter_brightness_contrast,
    rescale_protein,
    self_normalize,
)


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _augmentation(**kwargs: object) -> MultiCropAugmentation:
    options = {
        "n_channels": 4,
        "protein_index": 1,
        "global_crops_size": 32,
        "local_crops_size": 16,
        "local_crops_number": 3,
    } | kwargs
    return MultiCropAugmentation(**options)


def test_multicrop_shapes_and_self_normalised_channels() -> None:
    crops = _augmentation()(torch.rand(4, 48, 40), generator=_generator())
    assert [c.shape for c in crops["global_crops"]] == [(4, 32, 32)] * 2
    assert [c.shape for c in crops["local_crops"]] == [(4, 16, 16)] * 3
    for crop in crops["global_crops"] + crops["local_crops"]:
        std = crop.std(dim=(-2, -1), correction=0)
        assert torch.allclose(crop.mean(dim=(-2, -1)), torch.zeros(4), atol=1e-4)
        assert torch.all(((std - 1).abs() < 1e-3) | (std < 1e-3))  # unit std, or a constant (dropped) channel


def test_same_seed_same_crops_other_seed_other_crops() -> None:
    image, augmentation = torch.rand(4, 48, 48), _augmentation()
    first = augmentation(image, generator=_generator(3))
    again = augmentation(image, generator=_generator(3))
    other = augmentation(image, generator=_generator(4))
    assert all(torch.equal(a, b) for a, b in zip(first["local_crops"], again["local_crops"], strict=True))
    assert not torch.equal(first["global_crops"][0], other["global_crops"][0])


def test_drop_channel_never_drops_the_protein_channel() -> None:
    image = torch.rand(4, 8, 8) + 0.1
    dropped = {
        int((drop_channel(image, protein_index=1, generator=_generator(s)).sum(dim=(1, 2)) == 0).nonzero())
        for s in range(40)
    }
    assert dropped == {0, 2, 3}
    anything = {
        int((drop_channel(image, protein_index=None, generator=_generator(s)).sum(dim=(1, 2)) == 0).nonzero())
        for s in range(40)
    }
    assert anything == {0, 1, 2, 3}
    assert torch.equal(drop_channel(image[:1], protein_index=None, generator=_generator()), image[:1])


def test_rescale_protein_changes_only_the_protein_channel_by_u02_over_max() -> None:
    image = torch.rand(4, 8, 8) * 0.5
    out = rescale_protein(image, protein_index=2, generator=_generator(1))
    factor = out[2] / image[2]
    assert torch.allclose(factor, factor.flatten()[0].expand_as(factor))
    assert 0.0 <= float(factor.flatten()[0]) * float(image.max()) <= 2.0
    assert torch.equal(out[[0, 1, 3]], image[[0, 1, 3]])


def test_jitter_clips_to_unit_range() -> None:
    out = jitter_brightness_contrast(torch.rand(3, 16, 16), std=5.0, minimum=0.5, generator=_generator())
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_self_normalize_matches_the_formula() -> None:
    image = torch.rand(2, 5, 7)
    mean = image.mean(dim=(1, 2), keepdim=True)
    std = ((image - mean) ** 2).mean(dim=(1, 2), keepdim=True).sqrt()
    torch.testing.assert_close(self_normalize(image), (image - mean) / (std + 1e-7))
    assert torch.equal(self_normalize(torch.zeros(1, 4, 4)), torch.zeros(1, 4, 4))


def test_protein_index_out_of_range_is_named() -> None:
    with pytest.raises(ValueError, match="protein_index"):
        _augmentation(protein_index=4)


def test_bad_scale_and_channel_count_are_named() -> None:
    with pytest.raises(ValueError, match="local_crops_scale"):
        _augmentation(local_crops_scale=(0.5, 0.1))
    with pytest.raises(ValueError, match=r"image: expected shape \(4, H, W\)"):
        _augmentation()(torch.rand(3, 32, 32), generator=_generator())


def test_collate_is_crop_major() -> None:
    samples = [
        {"global_crops": [torch.full((1, 2, 2), 10.0 * k + i) for k in range(2)], "local_crops": []} for i in range(3)
    ]
    batch = collate_crops(samples)
    assert batch["global_crops"].shape == (6, 1, 2, 2) and "local_crops" not in batch
    assert batch["global_crops"][:, 0, 0, 0].tolist() == [0, 1, 2, 10, 11, 12]


def test_eval_transform_resizes_crops_and_normalises() -> None:
    out = EvalTransform(crop_size=16, resize_size=24)(torch.rand(4, 48, 64))
    assert out.shape == (4, 16, 16)
    assert torch.allclose(out.mean(dim=(-2, -1)), torch.zeros(4), atol=1e-4)
    with pytest.raises(ValueError, match="crop_size"):
        EvalTransform(crop_size=80)(torch.rand(4, 48, 64))
