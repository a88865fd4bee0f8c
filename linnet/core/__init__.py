"""The foundation every stage stands on: the one error type, argument checks, text-to-value
converters, number formatting, files written whole, and the version.

Modules: :mod:`~linnet.core.errors`, :mod:`~linnet.core.validation`, :mod:`~linnet.core.arguments`,
:mod:`~linnet.core.text`, :mod:`~linnet.core.files`, :mod:`~linnet.core.version`.

Imports: nothing of linnet.
"""
