"""The connection to a Dask cluster for ``skimgaug search --dask``: checked before any fit."""

#: Seconds to wait for a Dask scheduler to answer, and for its first worker.
DASK_TIMEOUT = 5


def connect_dask(address, timeout=DASK_TIMEOUT):
    """A ``distributed.Client`` for ``address`` with at least one worker (OSError if not)."""
    try:
        import distributed
    except ImportError:
        raise ImportError(
            "--dask needs Dask's distributed scheduler: pip install 'skimgaug[dask]'"
        ) from None
    _check_is_scheduler(address, timeout)
    try:
        client = distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise OSError(
            f"cannot reach the Dask scheduler at {address!r} within {timeout} s "
            f"({type(exc).__name__}: {exc}); check the address, or start one with "
            "'dask scheduler' and workers with 'dask worker ADDRESS'"
        ) from None
    except ValueError as exc:
        raise ValueError(f"--dask {address!r}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise OSError(
            f"the Dask scheduler at {address!r} has no workers; start some with "
            f"'dask worker {address}'"
        ) from None
    return client


def _check_is_scheduler(address, timeout):
    """Ask ``address`` who it is, within ``timeout`` seconds in all (OSError if not a scheduler).

    ``distributed.Client``'s own timeout covers opening the connection, not
    Dask's handshake after it: a port where something else listens (a Dask
    dashboard, a web server) would keep it waiting forever, and a service that
    answers with other bytes gives errors about frame sizes.
    """
    import asyncio

    from distributed.comm import connect

    async def identity():
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    hint = (
        "check the address (a scheduler's, as 'dask scheduler' prints it: tcp://HOST:8786), "
        "or start one with 'dask scheduler' and workers with 'dask worker ADDRESS'"
    )
    unreachable = f"cannot reach the Dask scheduler at {address!r} within {timeout} s"
    try:
        # A little longer than connect's own timeout, whose error says more.
        answer = asyncio.run(asyncio.wait_for(identity(), timeout + 2))
    except TimeoutError:  # asyncio's too (an OSError: caught first)
        raise OSError(
            f"{unreachable} (something listens there, but gave no Dask answer); " + hint
        ) from None
    except OSError as exc:
        raise OSError(f"{unreachable} ({type(exc).__name__}: {exc}); " + hint) from None
    except ValueError as exc:  # a malformed address
        raise ValueError(f"--dask {address!r}: {exc}") from None
    except Exception as exc:  # bytes that are no Dask message
        raise OSError(
            f"{address!r} does not answer as a Dask scheduler (it speaks another protocol: "
            f"{type(exc).__name__} reading its answer); " + hint
        ) from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        kind = answer.get("type") if isinstance(answer, dict) else None
        raise OSError(
            f"{address!r} is not a Dask scheduler"
            + (f" (it is a {kind})" if kind else "")
            + "; "
            + hint
        )
