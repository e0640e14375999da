"""``spectrakit explain``: attributions of a bundle's predictions, as a table and pictures."""

from __future__ import annotations

import argparse
from pathlib import Path

from spectrakit.cli._common import add_read_options, read_input, write_json
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
        "summary.png, one PNG per spectrum (up to --max-plots) and explain.json. " + EXAMPLE,
        run,
        [MODEL],
    )
    p.add_argument("--data", required=True, help="spectra to explain (table format or any reader)")
    add_read_options(p)
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
    import pandas as pd

    from spectrakit.explain import explain, plot_attribution, read_reference_bands, save_figure
    from spectrakit.io import atomic_dir, write
    from spectrakit.predict.loader import load

    claim_dir(args.out, args, EXPLAIN_DIR)
    reference = read_reference_bands(args.reference) if args.reference else None
    predictor = load(args.model)
    spectra = read_input(args.data, args)
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
    with atomic_dir(out, replaceable=EXPLAIN_DIR, what="an earlier 'explain' output") as tmp:
        write(attr.to_spectra(), tmp / "attributions.csv")
        tables = []
        for i in range(attr.n_spectra):
            bands = attr.top_bands(args.top_k, index=i)
            bands.insert(0, "target", attr.target_names[i])
            bands.insert(0, "spectrum", i)
            tables.append(bands)
        pd.concat(tables, ignore_index=True).to_csv(tmp / "top_bands.csv", index=False)
        summary = dict(top_k=args.top_k, reference=reference, style=args.style)
        save_figure(plot_attribution(attr, None, **summary), tmp / "summary.png")
        for i in range(min(args.max_plots, attr.n_spectra)):
            save_figure(plot_attribution(attr, i, **summary), tmp / f"spectrum_{i:04d}.png")
        overall = attr.top_bands(args.top_k)
        write_json(
            {
                "model": str(args.model),
                "data": str(args.data),
                "method": attr.method,
                "n_spectra": attr.n_spectra,
                "axis": attr.axis.describe(),
                "unit": attr.axis.unit,
                "targets": sorted(set(attr.target_names)),
                "top_bands": overall.to_dict(orient="records"),
            },
            tmp / "explain.json",
        )
    where = ", ".join(f"{b.position:.6g}" for b in overall.itertuples())
    print(
        f"explained {attr.n_spectra} spectra with {attr.method}; top bands ({attr.axis.unit}): "
        f"{where}; wrote {out}/attributions.csv, top_bands.csv, explain.json and PNGs"
    )
    return 0
