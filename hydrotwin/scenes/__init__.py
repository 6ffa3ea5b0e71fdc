"""The 3D scene of a basin (VTK/pyvista, no Qt): terrain, rivers, reservoirs, dams and gates,
towns, stations, flood water and BIM, all in one local frame, following one clock.

Main entry points: :class:`hydrotwin.scenes.scene.BasinScene` (on any pyvista plotter),
:func:`hydrotwin.scenes.render.render_basin` (off-screen PNG); scenes follow the session's
:class:`hydrotwin.fourpre.clock.Clock`. Submodules are imported on demand so that importing this
package stays cheap (pyvista/VTK load only when a scene is built).
"""
