"""A scikit-learn model whose pickle the inert globals walk cannot follow.

Its class is built at run time by a factory and pickled by a call to that factory (a copyreg
reducer on the metaclass), so the stream creates the object from a class that a call returns:
a stand-in cannot be that class. A real unpickler rebuilds it fine.
"""

from __future__ import annotations

import copyreg

from sklearn.dummy import DummyClassifier


class _FactoryMeta(type):
    pass


_BUILT: dict[str, type] = {}


def estimator_class(name: str) -> type:
    return _BUILT[name]


def _reduce_class(cls: type) -> tuple[object, tuple[str]]:
    return (estimator_class, (cls.__name__,))


copyreg.pickle(_FactoryMeta, _reduce_class)
FactoryModel = _FactoryMeta("FactoryModel", (DummyClassifier,), {"__module__": __name__})
_BUILT["FactoryModel"] = FactoryModel


def fitted_factory_model() -> DummyClassifier:
    model: DummyClassifier = FactoryModel(strategy="most_frequent")
    return model.fit([[0.0], [1.0], [2.0]], [1, 1, 0])
