"""Live monitoring data: SL 651 telemetry, MQTT, replay, and the durable SL 323 store.

* :mod:`~hydrotwin.live.observation` — the canonical record (station, UTC time, element, value,
  unit) every source produces;
* :mod:`~hydrotwin.live.sl651` — SL 651-2014 codec (HEX/BCD and ASCII, CRC-16/MODBUS,
  multi-packet reassembly, replies);
* :mod:`~hydrotwin.live.receiver` — asyncio TCP centre (auth, bounds, quarantine, ACK after
  commit); :mod:`~hydrotwin.live.mqtt` — MQTT subscriber; :mod:`~hydrotwin.live.replay` —
  recorded events at N×;
* :mod:`~hydrotwin.live.pipeline` — commit, then notify listeners (warnings, GUI);
* :mod:`~hydrotwin.live.store` — SQLite (WAL) or PostgreSQL with SL 323 tables, refusing a
  damaged file; :mod:`~hydrotwin.live.rain` — ST_PPTN_R rows from PJ/PT totals;
* :mod:`~hydrotwin.live.spool` — where acknowledged frames wait while the store is damaged;
  :mod:`~hydrotwin.live.maintenance` — online backup, check, restore, the periodic monitor and
  the writer lease.

Imports no Qt, VTK or numba (layering contract).
"""
