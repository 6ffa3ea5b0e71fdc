# The demo basin: manifest, scenarios and the data generated at build time (the spec runs
# its prepare hook first). Its dist-info carries the entry points that list it as a basin
# and register its hooks, so discovery in the bundle is the same as in a venv.
from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata

hiddenimports = collect_submodules("hydrotwin_demo_basin", filter=lambda n: ".tests" not in n)
datas = collect_data_files(
    "hydrotwin_demo_basin", includes=["basin.toml", "scenarios/*.toml", "data/*"]
)
datas += copy_metadata("hydrotwin-demo-basin")
