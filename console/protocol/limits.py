"""Named limits of the native protocol, shared by server and client."""

from typing import Final

API_PREFIX: Final = "/api/v1"
MAX_BODY_CHARS: Final = 10_000
MAX_SHORT_TEXT_CHARS: Final = 320
MAX_JSON_BYTES: Final = 1024 * 1024
MAX_ATTACHMENT_BYTES: Final = 25 * 1024 * 1024
MAX_ATTACHMENTS_PER_MESSAGE: Final = 10
DEFAULT_CAPACITY: Final = 3
MAX_CAPACITY: Final = 20
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200
RATE_PER_SECOND: Final = 10.0
RATE_BURST: Final = 50
HEARTBEAT_SECONDS: Final = 15.0
