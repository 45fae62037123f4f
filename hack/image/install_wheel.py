"""Install one pure-Python wheel into this interpreter's environment without pip.

The image's last stage adds Tide on top of a layer holding every dependency, so a change to
Tide's code makes a layer of a few MB rather than a new copy of the 300 MB of dependencies; and
that stage has no pip (it would weigh more than Tide). A pure wheel is a zip of the packages and
their ``.dist-info``: installing it is unpacking that, writing its console scripts and compiling
the bytecode (the root filesystem is read-only at run time, so no ``.pyc`` is written later).

Usage: python install_wheel.py WHEEL
"""

from __future__ import annotations

import compileall
import configparser
import sys
import sysconfig
import zipfile
from pathlib import Path


def install(wheel: Path) -> list[str]:
    """Unpack ``wheel`` into purelib and write its console scripts; return their names."""
    paths = sysconfig.get_paths()
    site, scripts = Path(paths["purelib"]), Path(paths["scripts"])
    entry_points = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    entry_points.optionxform = str  # type: ignore[assignment,method-assign]  # keep names' case
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        info = next(top for top in tops if top.endswith(".dist-info"))
        if "Root-Is-Purelib: true" not in archive.read(f"{info}/WHEEL").decode():
            sys.exit(f"{wheel.name}: not a pure-Python wheel")
        if f"{info}/entry_points.txt" in archive.namelist():
            entry_points.read_string(archive.read(f"{info}/entry_points.txt").decode())
        archive.extractall(site)
    for top in sorted(tops - {info}):
        compileall.compile_dir(site / top, quiet=1)
    written = []
    if entry_points.has_section("console_scripts"):
        for script, target in entry_points["console_scripts"].items():
            module, _, attribute = target.strip().partition(":")
            path = scripts / script
            path.write_text(
                f"#!{sys.executable}\nimport sys\nfrom {module} import {attribute.split('.')[0]}\n"
                f"sys.exit({attribute}())\n"
            )
            path.chmod(0o755)
            written.append(script)
    return written


if __name__ == "__main__":
    print(f"installed {sys.argv[1]}; scripts: {', '.join(install(Path(sys.argv[1])))}")
