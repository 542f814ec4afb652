"""Data-source adapters (MQTT, OPC UA, recordings, simulator) that append samples to the store."""
