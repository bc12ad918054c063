"""Keras Hub's Stable Diffusion 3 text-to-image, built from its classes with random weights.

keras.io's benchmark measured Stable Diffusion by generating images from a prompt
(``text_to_image``, ms per denoising step). Here one ``predict`` step is one whole
text-to-image generation of a batch, run by the Hub's own ``generate_step``: both CLIP
text encoders on the prompt's and the empty negative prompt's token ids, ``num_steps``
MMDiT denoising steps with classifier-free guidance (the batch runs twice per step) and
the VAE decoder to pixels. Inputs are what that function takes with no preprocessor:
``latents`` (the starting noise) and ``clip_l``/``clip_g`` token ids, positive and
negative; the output is the images. The per-denoising-step cost is the step time over
``num_steps`` (plus the text encoders and the decoder, once per step).

Keras Hub's ``StableDiffusion3TextToImage`` does not train (its ``fit`` raises), so
training points are skipped with ``SKIP_TRAINING``. ``hub_sd3_medium`` is SD3 medium as
Keras Hub publishes it (MMDiT 24 layers of 1536, CLIP-L and CLIP-G, no T5, 1024x1024,
2.99B parameters) with the Hub's default 28 steps; ``hub_sd3_tiny`` is 64x64 with two
small layers per part and 2 steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasbench.models import ModelInfo, tiny_variant

SKIP_TRAINING = "Keras Hub's StableDiffusion3TextToImage supports inference only (its fit raises)"
GUIDANCE_SCALE = 7.0  # the Hub's default for generate
CLIP_VOCAB = 49408  # both CLIP tokenizers' vocabulary; its last two ids start and end text
PROMPT_TOKENS = 8  # prompt tokens after the start; the rest is padding (the end id)


def build(spec: Any, info: ModelInfo) -> Any:
    """A keras.Model whose call is one text-to-image generation (``TextToImageStep``)."""
    import keras_hub

    # Keras Hub exports no VAEBackbone (its presets bring the VAE); the class is the same.
    from keras_hub.src.models.vae.vae_backbone import VAEBackbone

    hp, size = info.hparams, info.default_image_size
    assert size is not None
    vae = VAEBackbone(**hp["vae"])
    clip_l = keras_hub.models.CLIPTextEncoder(**hp["clip_l"], name="clip_l")
    clip_g = keras_hub.models.CLIPTextEncoder(**hp["clip_g"], name="clip_g")
    backbone = keras_hub.models.StableDiffusion3Backbone(
        **hp["mmdit"],
        vae=vae,
        clip_l=clip_l,
        clip_g=clip_g,
        t5=None,
        latent_channels=16,
        image_shape=(size, size, 3),
    )
    task = keras_hub.models.StableDiffusion3TextToImage(backbone=backbone, preprocessor=None)
    return text_to_image_step(task, hp["num_steps"], GUIDANCE_SCALE)


def text_to_image_step(task: Any, num_steps: int, guidance_scale: float) -> Any:
    """``task.generate_step`` as a keras.Model, so that ``predict`` runs and compiles it."""
    import keras

    class TextToImageStep(keras.Model):
        """Token ids and starting latents in, generated images (in [-1, 1]) out."""

        def __init__(self) -> None:
            super().__init__(name="sd3_text_to_image")
            self.task = task
            task.backbone.configure_scheduler(num_steps)  # what task.generate does first
            self.built = True  # every variable exists already (the task is built)

        def call(self, inputs: dict[str, Any]) -> Any:
            ids = {k: inputs[f"{k}_token_ids"] for k in ("clip_l", "clip_g")}
            negative = {k: inputs[f"{k}_negative_token_ids"] for k in ("clip_l", "clip_g")}
            steps = keras.ops.convert_to_tensor(num_steps, "int32")
            scale = keras.ops.convert_to_tensor(guidance_scale, "float32")
            if keras.config.backend() != "openvino":
                return self.task.generate_step(inputs["latents"], (ids, negative), steps, scale)
            # OpenVINO's fori_loop cannot close over the text embeddings: the same steps,
            # unrolled (num_steps is fixed).
            backbone = self.task.backbone
            embeddings = backbone.encode_text_step(ids, negative)
            latents = inputs["latents"]
            for step in range(num_steps):
                latents = backbone.denoise_step(latents, embeddings, step, steps, scale)
            return backbone.decode_step(latents)

    return TextToImageStep()


def inputs(info: ModelInfo, spec: Any, batch_size: int, rng: np.random.Generator) -> dict:
    """Standard-normal latents, and CLIP token ids: a random prompt and the empty negative.

    As CLIP's tokenizer writes them: the start id, the prompt, then the end id to the end
    (the text encoders pool at the first end id, the largest id).
    """
    size = info.default_image_size
    assert size is not None
    clip = info.hparams["clip_l"]
    length, vocab = clip["max_sequence_length"], clip["vocabulary_size"]
    start, end = vocab - 2, vocab - 1
    prompt = np.full((batch_size, length), end, dtype="int32")
    prompt[:, 0] = start
    prompt[:, 1 : 1 + PROMPT_TOKENS] = rng.integers(0, start, (batch_size, PROMPT_TOKENS))
    empty = np.full((batch_size, length), end, dtype="int32")
    empty[:, 0] = start
    latents = rng.standard_normal((batch_size, size // 8, size // 8, 16)).astype("float32")
    return {
        "latents": latents,
        "clip_l_token_ids": prompt,
        "clip_l_negative_token_ids": empty,
        "clip_g_token_ids": prompt.copy(),
        "clip_g_negative_token_ids": empty.copy(),
    }


def _clip(
    width: int, layers: int, heads: int, activation: str, length: int = 77, vocab: int = CLIP_VOCAB
) -> dict:
    return {
        "vocabulary_size": vocab,
        "embedding_dim": width,
        "hidden_dim": width,
        "num_layers": layers,
        "num_heads": heads,
        "intermediate_dim": 4 * width,
        "intermediate_activation": activation,
        "intermediate_output_index": layers - 2,  # SD3 reads the penultimate layer
        "max_sequence_length": length,
    }


def _vae(filters: list[int], encoder_blocks: int, decoder_blocks: int) -> dict:
    return {
        "encoder_num_filters": filters,
        "encoder_num_blocks": [encoder_blocks] * len(filters),
        "decoder_num_filters": filters[::-1],
        "decoder_num_blocks": [decoder_blocks] * len(filters),
        "sampler_method": "sample",
        "input_channels": 3,
        "sample_channels": 32,  # mean and log-variance of 16 latent channels
        "output_channels": 3,
        "scale": 1.5305,
        "shift": 0.0609,
    }


def _mmdit(hidden: int, layers: int, heads: int, position_size: int) -> dict:
    return {
        "mmdit_patch_size": 2,
        "mmdit_hidden_dim": hidden,
        "mmdit_num_layers": layers,
        "mmdit_num_heads": heads,
        "mmdit_position_size": position_size,
        "mmdit_qk_norm": None,  # SD3 (3.5 uses rms_norm)
        "mmdit_dual_attention_indices": None,
    }


SD3_MEDIUM = ModelInfo(
    name="hub_sd3_medium",
    description=(
        "Keras Hub StableDiffusion3TextToImage, SD3 medium config at 1024x1024, 2.99B params: "
        "one step = one text-to-image generation of 28 denoising steps (predict)"
    ),
    default_batch_size=1,
    input_kind="image",
    num_classes=3,  # the output images' channels
    default_image_size=1024,
    min_image_size=1024,
    hparams={
        "mmdit": _mmdit(hidden=1536, layers=24, heads=24, position_size=192),
        "vae": _vae([128, 256, 512, 512], encoder_blocks=2, decoder_blocks=3),
        "clip_l": _clip(768, layers=12, heads=12, activation="quick_gelu"),
        "clip_g": _clip(1280, layers=32, heads=20, activation="gelu"),
        "num_steps": 28,  # StableDiffusion3TextToImage.generate's default
    },
    optimizer="adamw",
    make_inputs=inputs,
    skip_modes={"fit": SKIP_TRAINING, "train_on_batch": SKIP_TRAINING},
    builder=build,
)
MODELS = (
    SD3_MEDIUM,
    tiny_variant(
        SD3_MEDIUM,
        "hub_sd3_tiny",
        "hub_sd3_medium classes at 64x64: MMDiT, CLIPs 2x32 (16 tokens), VAE 32 filters, 2 steps",
        default_image_size=64,
        min_image_size=64,
        hparams={
            "mmdit": _mmdit(hidden=32, layers=2, heads=2, position_size=8),
            "vae": _vae([32, 32, 32, 32], encoder_blocks=1, decoder_blocks=1),
            "clip_l": _clip(32, 2, heads=2, activation="quick_gelu", length=16, vocab=512),
            "clip_g": _clip(32, 2, heads=2, activation="gelu", length=16, vocab=512),
            "num_steps": 2,
        },
    ),
)
