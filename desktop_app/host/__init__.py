"""The library host: the ``Library`` served to the window from its own process.

- ``protocol``: the values that cross the pipe (the core's frozen records, plus ``Query``,
  ``QueryResult`` with its compact ``ItemRow`` tuples, ``ModelState``), event names and lanes.
- ``client``: ``LibraryClient``, one typed method per library call, each returning a typed
  ``Call[R]`` (a future), and the two backends that carry calls (``ProcessBackend``: the host
  process, the default; ``LocalBackend``: worker threads in the caller's process, for tests).
- ``dispatcher``: runs each call on its lane: READ (two threads), WRITE (the library's one
  writer thread: every call that changes the catalog or the index, each returning the
  ``FileChanges`` it made; ``index`` and following changes run beside it and hand it their
  writes batch by batch), MODEL, MEDIA.
- ``serve``: the host process's main loop.
- ``service``: ``LibraryService``, which answers calls with the ``Library`` and the core's query
  policy (``core.query.results`` over ``core.query.policy``).

Nothing here imports Qt (an import-linter contract checks it); ``gui`` imports only ``client``
and ``protocol``.

Adding a library call:
1. Write the method on ``LibraryService`` (``service.py``) with typed arguments and result; the
   result must pickle (prefer a frozen dataclass from ``core.records`` or ``protocol``).
2. Add the method of the same name to ``LibraryClient`` (``client.py``), with the same
   arguments, returning ``Call[<result type>]``, and its lane beside it:
   ``return self._call(WRITE, "my_call", arg)``. Anything that writes goes on WRITE and
   returns ``FileChanges``, which the window applies to its rows (``SearchPresenter``).
3. The GUI calls ``bridge.run(lambda c: c.my_call(arg), done=...)``; ``done`` gets the typed
   result on the GUI thread. Test it through ``LocalBackend`` (tests/unit/test_host_*.py).
"""
