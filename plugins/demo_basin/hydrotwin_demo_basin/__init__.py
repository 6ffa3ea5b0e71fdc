"""HydroTwin demo basin plugin: data generated deterministically by ``generate.prepare``."""
