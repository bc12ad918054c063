"""The torch-native models: kerasbench's architectures written as PyTorch writes them.

torchvision.models builds resnet50, vgg16, mobilenet_v2 and efficientnet_b0
(weights=None); plain ``nn.Module``s mirror the small Keras models
(kerasbench/models/*.py) layer for layer. Images are NCHW, PyTorch's layout.
Every model returns logits; the softmax that ends each Keras model is in the
loss (``nn.CrossEntropyLoss``) and in ``predict``.

Where torchvision's default differs from keras.applications, the Keras
choice wins, so that both sides do the same work (each change is named where
it is made): batch-norm epsilon and momentum, no dropout where Keras has none,
and ResNet50 v1 (Keras) rather than v1.5 (torchvision).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, partial
from typing import Any

TORCHVISION = ("resnet50", "vgg16", "mobilenet_v2", "efficientnet_b0")
MODULES = ("mnist_mlp", "cifar10_cnn", "lstm", "gru")
MODELS = TORCHVISION + MODULES


def build(
    name: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    hparams: Mapping[str, Any] | None = None,
) -> Any:
    """The torch ``nn.Module`` for ``name``.

    ``input_shape`` is one sample (NCHW for images); ``hparams`` are the Keras
    model's ``ModelInfo.hparams`` (the recurrent models read ``units``).
    """
    if name not in MODELS:
        raise ValueError(f"no torch-native model {name!r}; valid: {', '.join(MODELS)}")
    builders = {
        "resnet50": _resnet50,
        "vgg16": _vgg16,
        "mobilenet_v2": _mobilenet_v2,
        "efficientnet_b0": _efficientnet_b0,
        "mnist_mlp": _mnist_mlp,
        "cifar10_cnn": _cifar10_cnn,
        "lstm": partial(_recurrent, "lstm"),
        "gru": partial(_recurrent, "gru"),
    }
    if name in ("lstm", "gru"):
        units = dict(hparams or {}).get("units", 128)
        return builders[name](tuple(input_shape), num_classes, units)
    return builders[name](tuple(input_shape), num_classes)


def import_torchvision(name: str) -> None:
    """Import torchvision, if ``name`` needs it, outside any ``torch.device`` context.

    Its first import registers its C++ operators; under ``torch.device("meta")``
    that fails ("operator torchvision::nms does not exist").
    """
    if name in TORCHVISION:
        import torchvision  # noqa: F401


def _batch_norm(keras_momentum: float, epsilon: float) -> Any:
    """torch's BatchNorm2d with Keras' statistics: torch's momentum is 1 - Keras' momentum."""
    from torch import nn

    return partial(nn.BatchNorm2d, eps=epsilon, momentum=1.0 - keras_momentum)


def _resnet50(input_shape: tuple[int, ...], num_classes: int) -> Any:
    """torchvision's ResNet50 turned into keras.applications' ResNet50 v1.

    Two changes make the work equal: the stride of a downsampling block moves
    from the 3x3 convolution (v1.5, torchvision) to the first 1x1 (v1, Keras),
    and every convolution gets a bias, as Keras' (ported from Caffe) has.
    """
    import torchvision

    model = torchvision.models.resnet50(
        weights=None, num_classes=num_classes, norm_layer=_batch_norm(0.99, 1.001e-5)
    )
    for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
        for block in layer:
            if block.conv2.stride != (1, 1):
                block.conv1.stride, block.conv2.stride = block.conv2.stride, (1, 1)
    _add_conv_biases(model)
    return model


def _add_conv_biases(module: Any) -> None:
    from torch import nn

    for name, child in module.named_children():
        if isinstance(child, nn.Conv2d) and child.bias is None:
            conv = nn.Conv2d(
                child.in_channels,
                child.out_channels,
                child.kernel_size,
                stride=child.stride,
                padding=child.padding,
                groups=child.groups,
                bias=True,
            )
            conv.weight = child.weight
            nn.init.zeros_(conv.bias)  # Keras' bias_initializer="zeros"
            setattr(module, name, conv)
        else:
            _add_conv_biases(child)


def _vgg16(input_shape: tuple[int, ...], num_classes: int) -> Any:
    """torchvision's VGG16 with Keras' head: Flatten straight after the last pool, no dropout.

    torchvision pools to 7x7 first (a no-op at 224x224) so that any image size
    meets a 25088-wide first dense layer; Keras sizes that layer to the image.
    """
    import torchvision
    from torch import nn

    model = torchvision.models.vgg16(weights=None, num_classes=num_classes, dropout=0.0)
    _, height, width = input_shape
    model.avgpool = nn.Identity()
    model.classifier[0] = nn.Linear(512 * (height // 32) * (width // 32), 4096)
    return model


def _mobilenet_v2(input_shape: tuple[int, ...], num_classes: int) -> Any:
    """torchvision's MobileNetV2 (width 1.0) without the dropout Keras' head lacks."""
    import torchvision

    return torchvision.models.mobilenet_v2(
        weights=None,
        num_classes=num_classes,
        dropout=0.0,
        norm_layer=_batch_norm(0.999, 1e-3),
    )


def _efficientnet_b0(input_shape: tuple[int, ...], num_classes: int) -> Any:
    """torchvision's EfficientNetB0: stochastic depth 0.2 and dropout 0.2, as Keras' B0.

    Keras' B0 also rescales and normalises its input inside the model (seven
    constants, elementwise work); the native model takes the input as it comes.
    """
    import torchvision

    return torchvision.models.efficientnet_b0(
        weights=None,
        num_classes=num_classes,
        dropout=0.2,
        stochastic_depth_prob=0.2,
        norm_layer=_batch_norm(0.99, 1e-3),
    )


def _mnist_mlp(input_shape: tuple[int, ...], num_classes: int) -> Any:
    """784-512-512-classes with ReLU and dropout 0.2, as kerasbench/models/mnist_mlp.py."""
    from torch import nn

    (features,) = input_shape
    return nn.Sequential(
        nn.Linear(features, 512),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(512, num_classes),
    )


def cifar10_flat_size(height: int, width: int) -> int:
    """Features after cifar10_cnn's convolutions: two (same conv, valid conv, pool 2) stages."""
    for _ in range(2):
        height, width = (height - 2) // 2, (width - 2) // 2
    return 64 * height * width


def _cifar10_cnn(input_shape: tuple[int, ...], num_classes: int) -> Any:
    """The classic CIFAR-10 CNN, as kerasbench/models/cifar10_cnn.py, in NCHW."""
    from torch import nn

    channels, height, width = input_shape
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1),  # Keras padding="same" at stride 1
        nn.ReLU(),
        nn.Conv2d(32, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),  # flattens (C, H, W); Keras flattens (H, W, C)
        nn.Linear(cifar10_flat_size(height, width), 512),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(512, num_classes),
    )


def _recurrent(cell: str, input_shape: tuple[int, ...], num_classes: int, units: int) -> Any:
    """One LSTM or GRU layer, its last step into a dense layer, as kerasbench/models/lstm.py."""
    _, features = input_shape
    return RecurrentClassifier(cell, features, units, num_classes)


@cache
def _recurrent_classifier_class() -> Any:
    from torch import nn

    class _RecurrentClassifier(nn.Module):
        """``nn.LSTM`` or ``nn.GRU`` (batch first) and a linear head on the last step."""

        def __init__(self, cell: str, features: int, units: int, num_classes: int) -> None:
            super().__init__()
            rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
            self.rnn = rnn(features, units, batch_first=True)
            self.head = nn.Linear(units, num_classes)
            if cell == "lstm":
                # Keras' LSTM has one bias; torch's two (b_ih + b_hh) add up to one. Keras
                # feeds cuDNN a zero recurrent bias, so b_hh stays a frozen zero here too.
                nn.init.zeros_(self.rnn.bias_hh_l0)
                self.rnn.bias_hh_l0.requires_grad_(False)
            # GRU: Keras' reset_after=True GRU has both biases, like torch's.

        def forward(self, x: Any) -> Any:
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    return _RecurrentClassifier


def RecurrentClassifier(cell: str, features: int, units: int, num_classes: int) -> Any:  # noqa: N802
    """A recurrent classifier module (the class is made on first use: torch imports lazily)."""
    return _recurrent_classifier_class()(cell, features, units, num_classes)
