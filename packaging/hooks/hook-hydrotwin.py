# The CLI imports its subcommands by name (hydrotwin/app/cli.py) and plugins name their
# hooks as strings, so PyInstaller cannot see them: take every module. Translations are data.
from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata

hiddenimports = collect_submodules("hydrotwin")
datas = collect_data_files("hydrotwin", includes=["assets/translations/*.qm"])
datas += copy_metadata("hydrotwin")
