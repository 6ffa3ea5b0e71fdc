"""Child process of test_gc_guard.py: Qt dialogs with a pyqtgraph plot dropped in reference
cycles on the GUI thread while another thread allocates cycles of its own, for SECONDS.
``guard`` installs hydrotwin's GUI-thread collector first. It prints ``worker-gc`` (flushed)
as soon as a collection has run on the other thread, and ``survived N dialogs W`` at the end
(W = collections seen off the GUI thread). Exit 0 means it survived."""

import gc
import sys
import threading
import time

from PySide6.QtWidgets import QApplication, QDialog, QTableWidget, QVBoxLayout

SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
OFF_GUI = [0]


def count_off_gui(phase: str, info: dict) -> None:
    if phase == "start" and threading.current_thread() is not threading.main_thread():
        OFF_GUI[0] += 1


def churn(stop: threading.Event) -> None:
    while not stop.is_set():
        cells = [[i] for i in range(2000)]
        for c in cells:
            c.append(c)
        time.sleep(0.0005)


def one_dialog(app, pg) -> None:
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


def main() -> int:
    import pyqtgraph as pg

    app = QApplication([])
    if sys.argv[1] == "guard":
        from hydrotwin.viewers.gc_guard import collect_on_gui_thread

        collect_on_gui_thread(app)
    gc.callbacks.append(count_off_gui)
    stop = threading.Event()
    threading.Thread(target=churn, args=(stop,), daemon=True).start()
    t0, n, told = time.monotonic(), 0, False
    while time.monotonic() - t0 < SECONDS:
        one_dialog(app, pg)
        n += 1
        if OFF_GUI[0] and not told:
            print("worker-gc", flush=True)
            told = True
    stop.set()
    print(f"survived {n} dialogs {OFF_GUI[0]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
