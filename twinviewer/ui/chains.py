"""The order of the window's handler chains (:class:`twinviewer.core.signals.HandlerChain`), in one place.

Lower runs first; the first handler that returns True ends the chain. Panels add their handlers in
``install(window)``; which panel module loads first does not matter.

Click in 3D (``window.viewer.click_handlers``; ``viewer.handling_click`` is True meanwhile):
  CLICK_SENSOR_MARKER  overlay_panel: a click on (or near) a sensor marker activates that sensor
  CLICK_PICK           the 3D view: pick the part under the cursor, or add a measure point

Files dropped on the window (``window.drop_handlers``; also files the command line or the desktop hands over,
see ``ui/file_open.py``):
  DROP_BUNDLE          incident_actions: a .twinbundle opens as an incident bundle
  DROP_RECORDINGS      recording_panel: recordings open as one recording (after a dropped twin, if any)
  DROP_OPEN_TWIN       the window: open the first file as a twin
"""

CLICK_SENSOR_MARKER = 10
CLICK_PICK = 100

DROP_BUNDLE = 5
DROP_RECORDINGS = 10
DROP_OPEN_TWIN = 100
