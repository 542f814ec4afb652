"""TwinViewer test suite (a package so fixture modules like tests.mqtt_broker can be imported)."""
