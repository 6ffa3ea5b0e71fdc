"""A hostile SL 651 peer, run as its own process by the receiver tests (the attack must not
share the receiver's interpreter): N connections that send crafted input and reconnect
whenever the centre hangs up, until the time is up.

``python attacker.py HOST PORT CONNECTIONS SECONDS``; prints the connections it made.
"""

from __future__ import annotations

import asyncio
import sys
import time

#: HEX headers claiming 4,095 body bytes, one every 13 bytes (issue 21 item 2).
HEADER = b"\x7e\x7e\x01" + bytes.fromhex("0012345678") + b"\x12\x34\x32\x0f\xff"


def crafted(n: int) -> bytes:
    return HEADER * (n // 13)


async def attack(host: str, port: int, until: float, chunk: bytes) -> int:
    n = 0
    while time.monotonic() < until:
        try:
            _, w = await asyncio.open_connection(host, port)
            n += 1
            while time.monotonic() < until:
                w.write(chunk)
                await w.drain()
        except ConnectionError:
            await asyncio.sleep(0.01)
    return n


async def main(host: str, port: int, conns: int, seconds: float) -> None:
    until = time.monotonic() + seconds
    chunk = crafted(65536)
    made = await asyncio.gather(*(attack(host, port, until, chunk) for _ in range(conns)))
    print(sum(made), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
