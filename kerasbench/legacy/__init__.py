"""Legacy rows: Keras 2 on Apache MXNet (keras-mxnet) and Keras 2 on TensorFlow (tf-keras).

Both run ``kerasbench/legacy/worker.py``, a small Python-3.7-compatible worker
that speaks the same protocol as ``kerasbench.worker`` (spec JSON in, raw
measurement JSON out). ``mxnet`` runs in its own Python 3.7-3.9 environment,
made and recorded by ``kerasbench setup mxnet`` (``envs.py``); ``tf-keras``
runs under this interpreter with ``TF_USE_LEGACY_KERAS=1``. ``launch.py`` says
how a legacy point starts and when it must be skipped.
"""
