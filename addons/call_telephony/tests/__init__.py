from . import (
    test_agent_state,
    test_bus_index,
    test_call_events,
    test_callback_queue,
    test_gateway_api,
    test_incoming_batch,
    test_recording_access,
    test_ringing_batch,
    test_screen_pop_tour,
    test_screen_pop_websocket,
    test_transfer,
)
