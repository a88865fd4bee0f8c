"""Adapters to the optimizer libraries researchers use, each registered with ``linnet.register``
like a user's optimizer, so its spec string runs wherever its backend does:

* :mod:`~linnet.optimizers.adapters.keras_class`: ``keras[optimizer=Lion,lr=0.001]``, any class of
  ``keras.optimizers``, on the tensorflow backend;
* :mod:`~linnet.optimizers.adapters.optax_transform`: ``optax[optimizer=sgd,lr=1e-05]``, any optax
  gradient transformation, on the numpy backend (the optional extra ``optax``);
* :mod:`~linnet.optimizers.adapters.torch_optim`: ``torch[optimizer=SGD,lr=1e-05]``, any
  ``torch.optim`` optimizer, on the numpy backend (the optional extra ``torch``);
* :mod:`~linnet.optimizers.adapters.libraries`: what they share, importing a library when first needed.

Each spec names the library's class or function (``optimizer=``) and its step size ``lr`` (the
library's ``learning_rate`` or ``lr``, as in every linnet spec), and passes any other keyword on
as the library spells it (an open set of options, :data:`linnet.optimizers.spec.Options`). No
library is imported by ``import linnet`` or by parsing a spec: a run checks the spec against its
library when it starts, before its first step.
"""

from linnet.optimizers.adapters import keras_class, optax_transform, torch_optim  # noqa: F401
