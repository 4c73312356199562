"""DefectDesk: order defects, account health and appeals for marketplaces."""

__version__ = "0.1.0"
