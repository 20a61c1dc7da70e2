"""PDF documents for member federations and the Consortium's board."""
