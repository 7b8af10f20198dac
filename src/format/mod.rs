//! Turning flows into text for people: the TUI's cells and hubble's printers.
