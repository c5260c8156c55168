"""A small progress bar on stderr, shown only on a terminal (no click in the library)."""

from __future__ import annotations

import sys
import time


class Progress:
    """`with Progress(total, label) as bar: bar.update(n)`; silent when not shown."""

    def __init__(self, total: int, label: str, show: bool | None = None) -> None:
        self.total, self.label, self.n = total, label, 0
        self.show = sys.stderr.isatty() if show is None else show
        self.t0 = time.perf_counter()
        self._last = 0.0

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def update(self, n: int) -> None:
        self.n += n
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.show:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.2 and self.n < self.total:
            return
        self._last = now
        frac = self.n / self.total if self.total else 1.0
        rate = self.n / max(now - self.t0, 1e-9)
        eta = (self.total - self.n) / rate if rate > 0 and self.n else 0.0
        bar = "#" * int(30 * frac)
        sys.stderr.write(
            f"\r{self.label} [{bar:<30}] {self.n:,}/{self.total:,} {rate:,.0f}/s eta {eta:,.0f}s"
        )
        sys.stderr.flush()

    def __exit__(self, *exc: object) -> None:
        if self.show:
            self._draw(force=True)
            sys.stderr.write("\n")
            sys.stderr.flush()
