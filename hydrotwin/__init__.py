"""HydroTwin: a desktop digital twin for river-basin flood control.

Importing the package is cheap: it loads no Qt, VTK or numba. The layers are
``solver``, ``basin`` and ``live`` (headless inputs), ``fourpre`` (the workflow),
``scenes`` (VTK, no Qt), ``viewers`` and ``app`` (Qt). See DESIGN.md.
"""

from hydrotwin.errors import HydroTwinError

__version__ = "0.1.0"
__all__ = ["HydroTwinError", "__version__"]
