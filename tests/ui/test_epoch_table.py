from __future__ import annotations


def _record(epoch, train, val, acc, seconds=1.5, lr=0.001):
    return {"epoch": epoch, "train_loss": train, "val_loss": val, "metrics": {"accuracy": acc},
            "seconds": seconds, "lr": lr}


def test_rows_accumulate_and_the_best_epoch_moves(qtbot):
    from studio.ui.epoch_table import EpochTable

    table = EpochTable()
    qtbot.addWidget(table)
    table.set_batches(23)
    for r in (_record(1, 1.0, 0.8, 0.7), _record(2, 0.6, 0.5, 0.8), _record(3, 0.4, 0.55, 0.82)):
        table.add_epoch(r)
    t = table.table
    assert [t.item(r, 1).text() for r in range(3)] == ["23", "46", "69"]
    assert [t.item(r, 2).text() for r in range(3)] == ["0:02", "0:03", "0:04"]  # elapsed, summed
    assert [t.item(r, 0).text() for r in range(3)] == ["1", "2 ★", "3"]
    assert t.item(1, 4).font().bold() and not t.item(0, 4).font().bold()
    assert t.item(2, 5).text() == "0.8200" and t.item(2, 6).text() == "0.0010"
    table.add_epoch(_record(4, 0.3, 0.2, 0.9))
    assert t.item(1, 0).text() == "2" and t.item(3, 0).text() == "4 ★" and not t.item(1, 4).font().bold()
    table.finish("Stopped")
    assert table.final.text().startswith("Stopped: 4 epochs") and "Best: epoch 4, val loss 0.2000" in table.final.text()
