"""Child process of test_gc_guard.py: Qt dialogs with a pyqtgraph plot dropped in reference
cycles on the GUI thread while another thread allocates cycles of its own, for SECONDS.
``guard`` installs hydrotwin's GUI-thread collector first. Exit 0 means it survived."""

import sys
import threading
import time

from PySide6.QtWidgets import QApplication, QDialog, QTableWidget, QVBoxLayout

SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0


def churn(stop: threading.Event) -> None:
    while not stop.is_set():
        cells = [[i] for i in range(2000)]
        for c in cells:
            c.append(c)
        time.sleep(0.0005)


def main() -> int:
    import pyqtgraph as pg

    app = QApplication([])
    if sys.argv[1] == "guard":
        from hydrotwin.viewers.gc_guard import collect_on_gui_thread

        collect_on_gui_thread(app)
    stop = threading.Event()
    threading.Thread(target=churn, args=(stop,), daemon=True).start()
    t0, n = time.monotonic(), 0
    while time.monotonic() - t0 < SECONDS:
        d = QDialog()
        lay = QVBoxLayout(d)
        lay.addWidget(QTableWidget(5, 5))
        plot = pg.PlotWidget()
        plot.plot([1, 2, 3])
        lay.addWidget(plot)
        d.cycle = d
        d.show()
        app.processEvents()
        d.close()
        del d, lay, plot
        app.processEvents()
        n += 1
    stop.set()
    print(f"survived {n} dialogs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
