"""``spectrakit explain``: attributions of a bundle's predictions, as a table and pictures."""

from __future__ import annotations

import argparse
from pathlib import Path

from spectrakit.cli._channels import add_channel_options, read_data
from spectrakit.cli._common import add_read_options, write_json
from spectrakit.cli._output import EXPLAIN_DIR, claim_dir
from spectrakit.cli._parser import MODEL, command_parser
from spectrakit.cli._types import bounded_int, new_folder
from spectrakit.core.errors import ConfigError

EXAMPLE = (
    "example: spectrakit explain --model runs/bacteria --data test.csv --method ig "
    "--target MRSA --reference bands.csv --out explain/"
)
METHODS = [
    *("ig", "saliency", "smoothgrad", "shap", "occlusion"),
    *("gradcam", "hirescam", "attention", "ip-gradcam"),
]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "explain",
        "Attribute a bundle's predictions to axis positions. Writes "
        "attributions.csv (table format: one row per spectrum, axis columns), top_bands.csv, "
        "summary.png, one PNG per spectrum (up to --max-plots) and explain.json; a model on "
        "measured channels (--channel-files) gets these files per channel, each on its own "
        "axis, in channel_<k>_<name>/. " + EXAMPLE,
        run,
        [MODEL],
    )
    p.add_argument(
        "--data", help="spectra to explain (table format or any reader), or --channel-files"
    )
    add_read_options(p)
    add_channel_options(p)
    p.add_argument("--method", default="ig", choices=METHODS, help="attribution method")
    p.add_argument("--target", help="class name or output index (default: predicted class)")
    p.add_argument(
        "--channels",
        choices=["specific", "all", "complementary"],
        help="ip-gradcam only: Grad-CAM through the class's own channels (default 'specific'), "
        "all channels, or the complementary ones",
    )
    p.add_argument("--reference", help="CSV of known bands (position,label) drawn on the plots")
    p.add_argument(
        "--top-k", type=bounded_int(1, 10_000), default=5, help="top bands to report and annotate"
    )
    p.add_argument(
        "--max-plots", type=bounded_int(0, 100_000), default=10, help="per-spectrum PNGs to draw"
    )
    p.add_argument("--style", default="line", choices=["line", "band"], help="plot style")
    p.add_argument(
        "--out", required=True, type=new_folder, help="output folder (replaced atomically)"
    )


def _target(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.strip().isdigit() else value


def run(args: argparse.Namespace) -> int:
    from spectrakit.explain import explain, read_reference_bands
    from spectrakit.io import atomic_dir
    from spectrakit.predict.loader import load

    claim_dir(args.out, args, EXPLAIN_DIR)
    reference = read_reference_bands(args.reference) if args.reference else None
    predictor = load(args.model)
    spectra = read_data(args)
    options = {}
    if args.channels is not None:
        if args.method != "ip-gradcam":
            raise ConfigError(
                "--channels applies to --method ip-gradcam only",
                got=f"--method {args.method}",
                fix="drop --channels, or use --method ip-gradcam",
            )
        options["channels"] = args.channels
    attr = explain(predictor, spectra, method=args.method, target=_target(args.target), **options)
    out = Path(args.out)
    measured = getattr(attr, "channels", None)
    with atomic_dir(out, replaceable=EXPLAIN_DIR, what="an earlier 'explain' output") as tmp:
        if measured is None:
            _write_one(attr, tmp, args, reference).to_csv(tmp / "top_bands.csv", index=False)
            about = {"axis": attr.axis.describe(), "unit": attr.axis.unit}
        else:  # one folder per measured channel, each on its own axis
            tables = []
            for k, (name, one) in enumerate(measured.items()):
                folder = tmp / f"channel_{k}_{_stem(name)}"
                folder.mkdir()
                table = _write_one(one, folder, args, reference)
                tables.append(table.assign(channel=name))
            _channel_first(tables).to_csv(tmp / "top_bands.csv", index=False)
            about = {"channels": {n: {"folder": f"channel_{k}_{_stem(n)}", "axis":
                     a.axis.describe(), "unit": a.axis.unit} for k, (n, a) in
                     enumerate(measured.items())}}  # fmt: skip
        overall = attr.top_bands(args.top_k)
        write_json(
            {
                "model": str(args.model),
                "data": str(args.data or args.channel_files),
                "method": attr.method,
                "n_spectra": attr.n_spectra,
                **about,
                "targets": sorted(set(attr.target_names)),
                "top_bands": overall.to_dict(orient="records"),
            },
            tmp / "explain.json",
        )
    _print_summary(attr, overall, out, measured is not None)
    return 0


def _write_one(attr, folder: Path, args: argparse.Namespace, reference):
    """attributions.csv, summary.png and per-spectrum PNGs of one attribution in ``folder``.

    Returns the top bands of every spectrum (one table).
    """
    import pandas as pd

    from spectrakit.explain import plot_attribution, save_figure
    from spectrakit.io import write

    write(attr.to_spectra(), folder / "attributions.csv")
    tables = []
    for i in range(attr.n_spectra):
        bands = attr.top_bands(args.top_k, index=i)
        bands.insert(0, "target", attr.target_names[i])
        bands.insert(0, "spectrum", i)
        tables.append(bands)
    summary = dict(top_k=args.top_k, reference=reference, style=args.style)
    save_figure(plot_attribution(attr, None, **summary), folder / "summary.png")
    for i in range(min(args.max_plots, attr.n_spectra)):
        save_figure(plot_attribution(attr, i, **summary), folder / f"spectrum_{i:04d}.png")
    return pd.concat(tables, ignore_index=True)


def _channel_first(tables: list):
    import pandas as pd

    table = pd.concat(tables, ignore_index=True)
    return table[["channel", *[c for c in table.columns if c != "channel"]]]


def _stem(name: str) -> str:
    """A channel name as a safe file-name part (letters, digits, ``-``, ``_``, ``.``)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".") or "_"


def _print_summary(attr, overall, out: Path, measured: bool) -> None:
    if measured:
        where = ", ".join(f"{b.channel}:{b.position:.6g}" for b in overall.itertuples())
        unit = "channel:position"
        files = "one folder per channel (attributions.csv, PNGs), top_bands.csv, explain.json"
    else:
        where = ", ".join(f"{b.position:.6g}" for b in overall.itertuples())
        unit = attr.axis.unit
        files = "attributions.csv, top_bands.csv, explain.json and PNGs"
    print(f"explained {attr.n_spectra} spectra with {attr.method}; top bands ({unit}): "
          f"{where}; wrote {out}/{files}")  # fmt: skip
