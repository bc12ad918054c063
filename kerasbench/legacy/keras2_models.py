"""The Keras 2 models of the legacy worker (Python 3.7 compatible; see ``worker.py``).

Each builder takes the imported Keras 2 module and the spec, and returns an
uncompiled model with the same architecture as the Keras 3 file of that name.
"""

SEQUENCE_SHAPE = (40, 60)  # the seed's synthetic sequence task: 40 steps of 60 features


def _mnist_mlp(keras, spec, shape, classes):
    layers = keras.layers
    return keras.models.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=shape),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(classes, activation="softmax"),
        ],
        name="mnist_mlp",
    )


def _cifar10_cnn(keras, spec, shape, classes):
    layers = keras.layers
    fmt = spec["data_format"]
    return keras.models.Sequential(
        [
            layers.Conv2D(
                32, (3, 3), padding="same", activation="relu", data_format=fmt, input_shape=shape
            ),
            layers.Conv2D(32, (3, 3), activation="relu", data_format=fmt),
            layers.MaxPooling2D((2, 2), data_format=fmt),
            layers.Dropout(0.25),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu", data_format=fmt),
            layers.Conv2D(64, (3, 3), activation="relu", data_format=fmt),
            layers.MaxPooling2D((2, 2), data_format=fmt),
            layers.Dropout(0.25),
            layers.Flatten(data_format=fmt),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(classes, activation="softmax"),
        ],
        name="cifar10_cnn",
    )


def _application(name):
    def build(keras, spec, shape, classes):
        return getattr(keras.applications, name)(weights=None, input_shape=shape, classes=classes)

    return build


def _recurrent(layer_name):
    # Not unrolled, like the Keras 3 lstm/gru files (the seed unrolled for keras-mxnet;
    # keras-mxnet 2.2.4.3 runs the rolled layer over fixed-length inputs).
    def build(keras, spec, shape, classes):
        layers = keras.layers
        return keras.models.Sequential(
            [
                getattr(layers, layer_name)(128, input_shape=shape),
                layers.Dense(classes, activation="softmax"),
            ],
            name=layer_name.lower(),
        )

    return build


# name -> (builder, input kind, classes); image sizes come resolved in the spec.
MODELS = {
    "mnist_mlp": (_mnist_mlp, "vector", 10),
    "cifar10_cnn": (_cifar10_cnn, "image", 10),
    "resnet50": (_application("ResNet50"), "image", 1000),
    "vgg16": (_application("VGG16"), "image", 1000),
    "xception": (_application("Xception"), "image", 1000),
    "lstm": (_recurrent("LSTM"), "sequence", SEQUENCE_SHAPE[1]),
    "gru": (_recurrent("GRU"), "sequence", SEQUENCE_SHAPE[1]),
}


def input_shape(spec):
    """Shape of one sample (no batch axis)."""
    kind = MODELS[spec["model"]][1]
    if kind == "image":
        size = spec["image_size"]
        return (3, size, size) if spec["data_format"] == "channels_first" else (size, size, 3)
    if kind == "sequence":
        # ``seq_len`` (when the Spec has it) changes the number of steps, as in Keras 3.
        return (spec.get("seq_len") or SEQUENCE_SHAPE[0], SEQUENCE_SHAPE[1])
    return (784,)
