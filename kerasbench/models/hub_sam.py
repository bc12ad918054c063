"""Keras Hub's SAMImageSegmenter (Segment Anything) built from its classes, random weights.

A ViTDet image encoder, the prompt encoder and the mask decoder, as keras_hub's own
example assembles them. Inputs are an image batch plus prompts: one foreground point
(``points`` (b, 1, 2) pixel coordinates, ``labels`` (b, 1)), one box (``boxes`` (b, 1, 2, 2))
and no input mask (``masks`` (b, 0, 256, 256, 1)); outputs are ``masks`` and ``iou_pred``.
Keras Hub supports SAM for inference only (``fit`` raises), so training points are
skipped with ``SKIP_TRAINING``. ``hub_sam_huge`` is SAM ViT-H at 1024x1024 (641M
parameters), the size keras.io benchmarked; ``hub_sam_tiny`` is 64x64 with 2 small layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasbench.models import ModelInfo, tiny_variant

SKIP_TRAINING = "Keras Hub's SAMImageSegmenter supports inference only (its fit raises)"


def build(spec: Any, info: ModelInfo) -> Any:
    """The SAMImageSegmenter for ``info`` (square images of ``info.default_image_size``)."""
    import keras_hub

    hp, size = info.hparams, info.default_image_size
    assert size is not None
    grid = size // hp["patch_size"]
    encoder = keras_hub.models.ViTDetBackbone(
        hidden_size=hp["hidden"],
        num_layers=hp["layers"],
        intermediate_dim=4 * hp["hidden"],
        num_heads=hp["heads"],
        global_attention_layer_indices=hp["global_layers"],
        patch_size=hp["patch_size"],
        num_output_channels=hp["embed"],
        window_size=hp["window"],
        image_shape=(size, size, 3),
    )
    prompt_encoder = keras_hub.layers.SAMPromptEncoder(
        hidden_size=hp["embed"],
        image_embedding_size=(grid, grid),
        input_image_size=(size, size),
        mask_in_channels=16,
    )
    decoder = keras_hub.layers.SAMMaskDecoder(
        num_layers=2,
        hidden_size=hp["embed"],
        intermediate_dim=hp["decoder_mlp"],
        num_heads=8,
        embedding_dim=hp["embed"],
        num_multimask_outputs=3,
        iou_head_depth=3,
        iou_head_hidden_dim=hp["embed"],
    )
    backbone = keras_hub.models.SAMBackbone(
        image_encoder=encoder, prompt_encoder=prompt_encoder, mask_decoder=decoder
    )
    return keras_hub.models.SAMImageSegmenter(backbone=backbone, preprocessor=None)


def inputs(info: ModelInfo, spec: Any, batch_size: int, rng: np.random.Generator) -> dict:
    """Images in [0, 1) with one point and one box prompt each, inside the image."""
    size = info.default_image_size
    assert size is not None
    corners = np.sort(rng.uniform(0, size, (batch_size, 1, 2, 2)), axis=2)
    mask_side = 4 * size // info.hparams["patch_size"]  # the prompt encoder's mask input size
    return {
        "images": rng.random((batch_size, size, size, 3), dtype="float32"),
        "points": rng.uniform(0, size, (batch_size, 1, 2)).astype("float32"),
        "labels": np.ones((batch_size, 1), dtype="float32"),
        "boxes": corners.astype("float32"),
        "masks": np.zeros((batch_size, 0, mask_side, mask_side, 1), dtype="float32"),
    }


SAM_HUGE = ModelInfo(
    name="hub_sam_huge",
    description="Keras Hub SAMImageSegmenter, SAM ViT-H config at 1024x1024, 641M params (predict)",
    default_batch_size=7,
    input_kind="image",
    num_classes=3,  # the multimask outputs
    default_image_size=1024,
    min_image_size=1024,
    hparams={
        "hidden": 1280,
        "layers": 32,
        "heads": 16,
        "global_layers": [7, 15, 23, 31],
        "patch_size": 16,
        "window": 14,
        "embed": 256,
        "decoder_mlp": 2048,
    },
    optimizer="adamw",
    make_inputs=inputs,
    skip_modes={"fit": SKIP_TRAINING, "train_on_batch": SKIP_TRAINING},
    builder=build,
)
MODELS = (
    SAM_HUGE,
    tiny_variant(
        SAM_HUGE,
        "hub_sam_tiny",
        "hub_sam_huge classes at 64x64: 2 encoder layers, hidden 32, embedding 32",
        default_image_size=64,
        min_image_size=64,
        hparams={
            "hidden": 32,
            "layers": 2,
            "heads": 2,
            "global_layers": [1],
            "patch_size": 16,
            "window": 2,
            "embed": 32,
            "decoder_mlp": 64,
        },
    ),
)
