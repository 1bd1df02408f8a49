"""The local console (issue 21): read-only pages at `/_tarn/console` over the same stores and
the invocation records stream, and the small JSON API under `/_tarn/` they read.

Only the page's Invoke button changes anything, and it calls the Lambda API as any client does.
Importing the package registers every route on its one blueprint.
"""

from services.console import invocations as invocations
from services.console import overview as overview
from services.console import pages as pages
from services.console.blueprint import blueprint as blueprint
