"""IFC4 models of the Qingxi dam and the Shimen sluice, authored with ``ifcopenshell.api``.

Each model's local frame has its origin at the structure's map position (the manifest's
``dam_x/dam_y`` and the sluice's ``x/y``), x east, y north and z the elevation in the basin
datum, so its IfcMapConversion to EPSG:4547 is a pure shift (Eastings, Northings, height 0).

Bodies are extruded profiles: ``add_profile_representation`` extrudes along the profile's local
Z, so the cross-sections are drawn in a plane across the extrusion (``placement_zx_axes``) —
dam sections are drawn in the (y, z) plane and extruded east along x, the sluice's piers in
(x, z) and extruded north along y (anchors/rendering.md).

Everything that makes a file differ between runs is fixed: every IfcRoot GlobalId is derived
from a name (uuid5), the header carries a fixed timestamp, and the moving gate leaves get ids
from :func:`leaf_global_id` that the manifest lists.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hydrotwin_demo_basin import layout as L  # noqa: N812 - short module aliases read like the design notes
from hydrotwin_demo_basin import terrain as T  # noqa: N812 - short module aliases read like the design notes

DAM_FILE = "dam.ifc"
SLUICE_FILE = "sluice.ifc"
HEADER_TIME = "2026-03-22T00:00:00"
NAMESPACE = uuid.UUID("6f1c1a52-9a57-4c1e-8d0e-6b1f0c2a7d31")  # this plugin's uuid5 namespace

CONCRETE = (0.72, 0.71, 0.68)
DECK = (0.55, 0.55, 0.56)
STEEL = (0.20, 0.38, 0.62)
SILL = (0.62, 0.60, 0.56)

# Gravity dam cross-section (SL 319 practice: crest width ~ 8 m, downstream face 0.75 H : 1 V)
CREST_WIDTH_M = 8.0
DOWNSTREAM_SLOPE = 0.75
FOUNDATION_DEPTH_M = 3.0
BLOCK_M = 20.0  # dam block (坝段) length along the axis


def leaf_global_id(model: str, group: str, bay: int) -> str:
    """The fixed IFC GlobalId of a gate leaf (22-char compressed uuid5 of its name)."""
    import ifcopenshell.guid

    return ifcopenshell.guid.compress(uuid.uuid5(NAMESPACE, f"{model}/{group}/{bay}").hex)


def _gid(model: str, key: str) -> str:
    import ifcopenshell.guid

    return ifcopenshell.guid.compress(uuid.uuid5(NAMESPACE, f"{model}#{key}").hex)


@dataclass
class _Ctx:
    f: Any  # ifcopenshell.file
    body: Any  # the Body representation context
    styles: dict[str, Any]
    container: Any  # the spatial element holding the products
    model: str


def _new_file(model: str, project_name: str, site_name: str, facility_name: str, x: float,
              y: float) -> _Ctx:  # fmt: skip
    import ifcopenshell.api.aggregate
    import ifcopenshell.api.context
    import ifcopenshell.api.georeference
    import ifcopenshell.api.project
    import ifcopenshell.api.root
    import ifcopenshell.api.style

    api: Any = ifcopenshell.api
    f = api.project.create_file(version="IFC4")
    project = api.root.create_entity(f, ifc_class="IfcProject", name=project_name)
    # SI metre, square and cubic metre, assigned in this fixed order (ifcopenshell.api's
    # assign_unit collects them in a set, so two runs could write them in different orders)
    units = [
        f.create_entity("IfcSIUnit", UnitType=kind, Name=name)
        for kind, name in (
            ("LENGTHUNIT", "METRE"), ("AREAUNIT", "SQUARE_METRE"), ("VOLUMEUNIT", "CUBIC_METRE"),
        )
    ]  # fmt: skip
    project.UnitsInContext = f.create_entity("IfcUnitAssignment", Units=units)
    model_ctx = api.context.add_context(f, context_type="Model")
    body = api.context.add_context(
        f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW",
        parent=model_ctx,
    )  # fmt: skip
    api.georeference.add_georeferencing(f, ifc_class="IfcMapConversion", name=L.CRS)
    api.georeference.edit_georeferencing(
        f,
        projected_crs={
            "Name": L.CRS,
            "Description": "CGCS2000 / 3-degree Gauss-Kruger CM 114E",
            "GeodeticDatum": "CGCS2000",
            "VerticalDatum": "1985国家高程基准",
        },
        coordinate_operation={
            "Eastings": float(x),
            "Northings": float(y),
            "OrthogonalHeight": 0.0,
            "XAxisAbscissa": 1.0,
            "XAxisOrdinate": 0.0,
            "Scale": 1.0,
        },
    )
    site = api.root.create_entity(f, ifc_class="IfcSite", name=site_name)
    facility = api.root.create_entity(f, ifc_class="IfcBuilding", name=facility_name)
    facility.Description = "hydraulic structure (IFC4 has no IfcFacility; IfcBuilding stands in)"
    api.aggregate.assign_object(f, products=[site], relating_object=project)
    api.aggregate.assign_object(f, products=[facility], relating_object=site)
    styles = {}
    for name, rgb in (("混凝土", CONCRETE), ("桥面", DECK), ("钢闸门", STEEL), ("底板", SILL)):
        st = api.style.add_style(f, name=name)
        api.style.add_surface_style(
            f, style=st, ifc_class="IfcSurfaceStyleShading",
            attributes={"SurfaceColour": {"Name": None, "Red": rgb[0], "Green": rgb[1],
                                          "Blue": rgb[2]}, "Transparency": 0.0},
        )  # fmt: skip
        styles[name] = st
    return _Ctx(f, body, styles, facility, model)


def _element(
    c: _Ctx,
    ifc_class: str,
    name: str,
    section: list[tuple[float, float]],
    axis: str,
    start: float,
    length: float,
    style: str,
    global_id: str | None = None,
    object_type: str | None = None,
) -> Any:
    """A prism: the closed polygon ``section`` extruded ``length`` m from ``start``.

    axis "x": section in (y, z), extruded east from x = start; axis "y": section in (x, z),
    extruded north from y = start.
    """
    import ifcopenshell.api.geometry
    import ifcopenshell.api.root
    import ifcopenshell.api.spatial
    import ifcopenshell.api.style

    api: Any = ifcopenshell.api
    f = c.f
    el = api.root.create_entity(f, ifc_class=ifc_class, name=name)
    if object_type:
        el.ObjectType = object_type
    if global_id:
        el.GlobalId = global_id
    pts = [f.createIfcCartesianPoint((float(a), float(b))) for a, b in section]
    pts.append(pts[0])
    profile = f.createIfcArbitraryClosedProfileDef("AREA", None, f.createIfcPolyline(pts))
    if axis == "x":
        zx = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))  # extrude east; profile x = north, y = up
        origin = (start, 0.0, 0.0)
    else:
        zx = ((0.0, 1.0, 0.0), (-1.0, 0.0, 0.0))  # extrude north; profile x = west, y = up
        origin = (0.0, start, 0.0)
        pts_x = [(-a, b) for a, b in section]  # profile x runs west: mirror to keep east +
        pts = [f.createIfcCartesianPoint((float(a), float(b))) for a, b in pts_x]
        pts.append(pts[0])
        profile = f.createIfcArbitraryClosedProfileDef("AREA", None, f.createIfcPolyline(pts))
    rep = api.geometry.add_profile_representation(
        f, context=c.body, profile=profile, depth=float(length), cardinal_point=None,
        placement_zx_axes=zx,
    )  # fmt: skip
    api.geometry.assign_representation(f, product=el, representation=rep)
    m = np.eye(4)
    m[:3, 3] = origin
    api.geometry.edit_object_placement(f, product=el, matrix=m, is_si=True)
    api.style.assign_representation_styles(f, shape_representation=rep, styles=[c.styles[style]])
    api.spatial.assign_container(f, products=[el], relating_structure=c.container)
    return el


def _pset(c: _Ctx, el: Any, name: str, props: dict) -> None:
    import ifcopenshell.api.pset

    ps = ifcopenshell.api.pset.add_pset(c.f, product=el, name=name)
    ifcopenshell.api.pset.edit_pset(c.f, pset=ps, properties=props)


def _finish(c: _Ctx, path: Path, leaves: set[str]) -> None:
    """Fix every remaining GlobalId and the header, then write."""
    f = c.f
    # the api keeps related objects in sets: write them in creation order (stable bytes)
    for rel in f.by_type("IfcRelationship"):
        for i in range(len(rel)):
            v = rel[i]
            if isinstance(v, tuple) and v and all(hasattr(x, "id") for x in v):
                setattr(rel, rel.attribute_name(i), tuple(sorted(v, key=lambda e: e.id())))
    for ent in sorted(f.by_type("IfcRoot"), key=lambda e: e.id()):
        if ent.GlobalId not in leaves:
            ent.GlobalId = _gid(c.model, f"{ent.is_a()}/{ent.id()}")
    hdr = f.header
    hdr.file_name.name = path.name
    hdr.file_name.time_stamp = HEADER_TIME
    hdr.file_name.author = ("HydroTwin demo basin generator",)
    hdr.file_name.organization = ("HydroTwin",)
    f.write(str(path))


def _dam_profile(top_m: float, bottom_m: float) -> list[tuple[float, float]]:
    """Gravity section in (y north, z): vertical upstream face at y = +CREST/2, crest width
    CREST_WIDTH_M, then the downstream face at DOWNSTREAM_SLOPE (H:V) down to the foundation."""
    yu = CREST_WIDTH_M / 2
    yd = -CREST_WIDTH_M / 2
    knee = L.DAM_CREST_M - CREST_WIDTH_M / DOWNSTREAM_SLOPE  # where the slope meets the crest
    knee = min(knee, top_m)
    toe = yd - DOWNSTREAM_SLOPE * (knee - bottom_m)
    pts = [(yu, bottom_m), (yu, top_m), (yd, top_m), (yd, knee), (toe, bottom_m)]
    return [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]  # no repeated vertex


def dam_layout() -> dict:
    """Where the bays sit along the dam axis (local x, m)."""
    sg = L.SURFACE_GATES
    w = sg["bays"] * sg["bay_width_m"] + (sg["bays"] + 1) * sg["pier_m"]
    gated = (-w / 2, w / 2)
    spill = (gated[1] + 6.0, gated[1] + 6.0 + L.FREE_SPILLWAY["width_m"])
    bottom_x = gated[0] - 12.0
    return {"gated": gated, "spill": spill, "bottom_x": bottom_x}


def write_dam(path: Path, terr: T.Terrain) -> list[str]:
    """The Qingxi gravity dam: blocks, gated spillway (piers, deck, leaves), free spillway,
    bottom outlet; returns the surface-gate leaf GlobalIds then the bottom-gate one."""
    dam_x, dam_y = L.to_map(*L.DAM_UV)
    x_w, x_e = T.dam_span(terr.dem)
    x_w, x_e = x_w - 15.0 - dam_x, x_e + 15.0 - dam_x  # key into the abutments
    row = T.dam_axis_row()
    ground = terr.dem[row - 2].astype(np.float64)  # the valley just upstream of the dam row
    c = _new_file("dam", "青溪水库", "青溪水库坝址", "青溪水库大坝", dam_x, dam_y)
    lay = dam_layout()
    sg, bg = L.SURFACE_GATES, L.BOTTOM_GATES

    def ground_min(a: float, b: float) -> float:
        c0 = int(np.floor((dam_x + a - L.X0) / L.CELL_M))
        c1 = int(np.floor((dam_x + b - L.X0) / L.CELL_M))
        return float(ground[max(c0, 0) : c1 + 1].min())

    # non-overflow and overflow blocks
    cuts = sorted({x_w, x_e, *lay["gated"], *lay["spill"]})
    pieces: list[tuple[float, float, str]] = []
    for a, b in itertools.pairwise(cuts):
        kind = "gated" if (a, b) == lay["gated"] else "spill" if (a, b) == lay["spill"] else "solid"
        if kind == "solid":
            n = max(round((b - a) / BLOCK_M), 1)
            edges = np.linspace(a, b, n + 1)
            pieces += [(float(p), float(q), kind) for p, q in itertools.pairwise(edges.tolist())]
        else:
            pieces.append((a, b, kind))
    for k, (a, b, kind) in enumerate(pieces, start=1):
        bottom = ground_min(a, b) - FOUNDATION_DEPTH_M
        top = {"solid": L.DAM_CREST_M, "gated": sg["sill_m"],
               "spill": L.FREE_SPILLWAY["crest_m"]}[kind]  # fmt: skip
        if top <= bottom + 1.0:
            bottom = top - 4.0
        label = {"solid": "挡水坝段", "gated": "溢流坝段（闸控）", "spill": "溢流坝段（开敞）"}[
            kind
        ]
        el = _element(c, "IfcBuildingElementProxy", f"{label} {k}#", _dam_profile(top, bottom),
                      "x", a, b - a, "混凝土", object_type="GravityDamBlock")  # fmt: skip
        props = {"BlockNumber": k, "TopLevel": float(top), "FoundationLevel": round(bottom, 2)}
        _pset(c, el, "HydroTwin_DamBlock", props)
    # piers and deck over the gated bays, walls at the free spillway's ends
    yu, yd = CREST_WIDTH_M / 2, -CREST_WIDTH_M / 2 - 6.0
    pier_sec = [(yu, sg["sill_m"]), (yu, L.DAM_CREST_M), (yd, L.DAM_CREST_M), (yd, sg["sill_m"])]
    g0 = lay["gated"][0]
    for i in range(sg["bays"] + 1):
        x = g0 + i * (sg["bay_width_m"] + sg["pier_m"])
        _element(c, "IfcColumn", f"闸墩 {i + 1}#", pier_sec, "x", x, sg["pier_m"], "混凝土",
                 object_type="Pier")  # fmt: skip
    for x0, x1 in (lay["gated"], lay["spill"]):
        deck = [(yu, L.DAM_CREST_M - 1.2), (yu, L.DAM_CREST_M), (yd, L.DAM_CREST_M),
                (yd, L.DAM_CREST_M - 1.2)]  # fmt: skip
        _element(c, "IfcSlab", "坝顶交通桥", deck, "x", x0, x1 - x0, "桥面", object_type="Deck")
    s0, s1 = lay["spill"]
    wall = [(yu, L.FREE_SPILLWAY["crest_m"]), (yu, L.DAM_CREST_M), (yd, L.DAM_CREST_M),
            (yd, L.FREE_SPILLWAY["crest_m"])]  # fmt: skip
    for i, x in enumerate((s0 - 2.0, s1)):
        _element(c, "IfcWall", f"溢洪道导墙 {i + 1}#", wall, "x", x, 2.0, "混凝土")
    # gate leaves: in the gate slots just downstream of the upstream face
    ids = []
    leaf_sec = [(1.5, sg["sill_m"]), (1.5, sg["sill_m"] + sg["leaf_height_m"]),
                (0.5, sg["sill_m"] + sg["leaf_height_m"]), (0.5, sg["sill_m"])]  # fmt: skip
    for i in range(sg["bays"]):
        x = g0 + sg["pier_m"] + i * (sg["bay_width_m"] + sg["pier_m"])
        gid = leaf_global_id("dam", sg["id"], i + 1)
        el = _element(c, "IfcPlate", f"表孔闸门 {i + 1}#", leaf_sec, "x", x, sg["bay_width_m"],
                      "钢闸门", global_id=gid, object_type="GateLeaf")  # fmt: skip
        _pset(c, el, "HydroTwin_Gate", _gate_props(sg, i + 1))
        ids.append(gid)
    bx = lay["bottom_x"]
    bsec = [(yu + 0.6, bg["sill_m"]), (yu + 0.6, bg["sill_m"] + bg["leaf_height_m"]),
            (yu + 0.1, bg["sill_m"] + bg["leaf_height_m"]), (yu + 0.1, bg["sill_m"])]  # fmt: skip
    gid = leaf_global_id("dam", bg["id"], 1)
    el = _element(c, "IfcPlate", "底孔闸门 1#", bsec, "x", bx - bg["bay_width_m"] / 2,
                  bg["bay_width_m"], "钢闸门", global_id=gid, object_type="GateLeaf")  # fmt: skip
    _pset(c, el, "HydroTwin_Gate", _gate_props(bg, 1))
    ids.append(gid)
    _finish(c, path, set(ids))
    return ids


def _gate_props(g: dict, bay: int) -> dict:
    return {
        "GateGroup": g["id"],
        "BayNumber": bay,
        "BayWidth": float(g["bay_width_m"]),
        "SillLevel": float(g["sill_m"]),
        "MaxOpening": float(g["max_opening_m"]),
        "LeafHeight": float(g["leaf_height_m"]),
    }


def write_sluice(path: Path, terr: T.Terrain) -> list[str]:
    """The Shimen sluice across the channel (the river flows east): sill slab, piers, deck and
    one leaf per bay; bays side by side along y (north)."""
    del terr
    x0, y0 = L.to_map(*L.SLUICE_UV)
    c = _new_file("sluice", "石门闸", "石门闸闸址", "石门闸", x0, y0)
    g = L.SLUICE_GATES
    sill, deck_z = g["sill_m"], L.SLUICE_DECK_M
    w = g["bays"] * g["bay_width_m"] + (g["bays"] + 1) * g["pier_m"]
    ys = -w / 2
    half_len = 9.0  # piers 18 m along the flow
    slab = [(-half_len - 4, sill - 1.5), (half_len + 6, sill - 1.5), (half_len + 6, sill),
            (-half_len - 4, sill)]  # fmt: skip
    _element(c, "IfcSlab", "闸室底板", slab, "y", ys, w, "底板", object_type="Sill")
    pier = [(-half_len, sill), (half_len, sill), (half_len, deck_z), (-half_len, deck_z)]
    for i in range(g["bays"] + 1):
        y = ys + i * (g["bay_width_m"] + g["pier_m"])
        _element(c, "IfcColumn", f"闸墩 {i + 1}#", pier, "y", y, g["pier_m"], "混凝土",
                 object_type="Pier")  # fmt: skip
    deck = [(-4.0, deck_z), (4.0, deck_z), (4.0, deck_z + 0.8), (-4.0, deck_z + 0.8)]
    _element(c, "IfcSlab", "工作桥", deck, "y", ys, w, "桥面", object_type="Deck")
    leaf = [(-1.0, sill), (-0.4, sill), (-0.4, sill + g["leaf_height_m"]),
            (-1.0, sill + g["leaf_height_m"])]  # fmt: skip
    ids = []
    for i in range(g["bays"]):
        y = ys + g["pier_m"] + i * (g["bay_width_m"] + g["pier_m"])
        gid = leaf_global_id("sluice", g["id"], i + 1)
        el = _element(c, "IfcPlate", f"闸门 {i + 1}#", leaf, "y", y, g["bay_width_m"], "钢闸门",
                      global_id=gid, object_type="GateLeaf")  # fmt: skip
        _pset(c, el, "HydroTwin_Gate", _gate_props(g, i + 1))
        ids.append(gid)
    _finish(c, path, set(ids))
    return ids


def write_models(out: Path, terr: T.Terrain) -> None:
    """Write dam.ifc and sluice.ifc into ``out``."""
    write_dam(out / DAM_FILE, terr)
    write_sluice(out / SLUICE_FILE, terr)


def add_to_manifest(doc: dict) -> None:
    """Name the IFC files and the leaves' GlobalIds in the manifest dictionary."""
    res = doc["reservoirs"][0]
    res["bim"] = {"file": f"data/{DAM_FILE}"}
    for g in res["gates"]:
        src = L.SURFACE_GATES if g["id"] == L.SURFACE_GATES["id"] else L.BOTTOM_GATES
        g["leaf_global_ids"] = [leaf_global_id("dam", g["id"], i + 1) for i in range(src["bays"])]
    sl = doc["sluice_gates"][0]
    sl["bim"] = {"file": f"data/{SLUICE_FILE}"}
    for g in sl["gates"]:
        g["leaf_global_ids"] = [
            leaf_global_id("sluice", g["id"], i + 1) for i in range(L.SLUICE_GATES["bays"])
        ]
