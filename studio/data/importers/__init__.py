"""Importers: a person's own data, read from files named in the project's ``data`` section.

Each module here declares one importer on its loader with ``@dataset(name, description,
builtin=False, params=(...))``: the options it takes, as Params (its ``path`` a ``file`` or
``folder`` Param). Validation, ``studio data --set`` and the data panel's form read them, so
a new importer is one module (plus its test); every module here is found and imported
when the datasets are listed. Modules import torch only inside their functions, so listing
the importers (the data panel does when the editor opens) loads neither torch nor the data.

A file that cannot be used raises :class:`~studio.data.base.DataError` naming it; a bad
item inside an otherwise good set is left out and listed in ``DataSplit.skipped`` as
``file[:line]: reason``. Sets larger than ``_common.MEMORY_LIMIT_MB`` once decoded are read
lazily from disk.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
