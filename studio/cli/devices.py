"""``studio devices``: what this machine can train on, and why the rest is unavailable."""

from __future__ import annotations

import argparse

from studio.cli._output import emit_json, human_bytes


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object per device, then a summary")


def run(args: argparse.Namespace) -> int:
    from studio.training.devices import auto_device_id, list_devices

    devices = list_devices()  # imports torch only to probe an accelerator this install could have
    auto = auto_device_id(devices)
    if args.json:
        for d in devices:
            emit_json({"type": "device", **d.to_json()})
        emit_json({"type": "summary", "available": [d.id for d in devices if d.available], "auto": auto})
        return 0
    for d in devices:
        if d.available:
            extra = f"{d.cores} cores" if d.cores else human_bytes(d.memory) if d.memory else ""
            print(f"  {d.id:<8} {d.name}" + (f"  ({extra})" if extra else ""))
        else:
            print(f"  {d.id:<8} unavailable: {d.reason}")
    print(f"auto picks: {auto}")
    return 0
