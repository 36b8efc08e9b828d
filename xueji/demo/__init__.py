"""The demo county: deterministic, realistic data for trying the app and for tests.

Each part is a function (session, context) → None listed in PARTS; later features add their own part
(cases, visits, sweeps, home teaching) after the registry.
"""

from __future__ import annotations

from xueji.demo.build import DemoSpec, DemoSummary, load_demo

__all__ = ["DemoSpec", "DemoSummary", "load_demo"]
