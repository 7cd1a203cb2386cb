from . import test_agent_state
from . import test_call_events
from . import test_recording_access
from . import test_callback_queue
from . import test_gateway_api
from . import test_screen_pop_websocket
from . import test_screen_pop_tour
