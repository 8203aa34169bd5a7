"""The report's PNG charts (matplotlib, Agg): the bar charts of most
sections and the echo sweep's line chart."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reporting.format import num  # noqa: E402

COLORS = {"tfpython": "#e8710a", "tfpython-plain": "#f5b97f", "tfpython-epoll": "#b5520a", "gevent": "#4c78a8",
          "python3.11": "#9d9d9d", "C": "#54a24b"}
ECHO_SCALE_COLORS = {"c": "#54a24b", "tf_threads": "#e8710a", "tf_spawn": "#b5520a", "gevent": "#4c78a8",
                     "threads": "#9d9d9d", "uvloop": "#5a5a5a"}


def bars(path, title, rows, panels):
    """Horizontal bar chart: one panel per (axis label, field, scale); a
    failed row shows the word "failed" instead of a bar."""
    labels = [row["label"] for row in rows]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels) + 2.2, 0.42 * len(rows) + 1.6),
                             sharey=True, squeeze=False)
    for ax, (xlabel, field, scale) in zip(axes[0], panels):
        values = [row.get(field) * scale if row.get("ok") and row.get(field) is not None else None
                  for row in rows]
        colors = [COLORS.get(row.get("runtime"), "#9d9d9d") for row in rows]
        drawn = ax.barh(range(len(rows)), [v or 0 for v in values], color=colors)
        for bar, row in zip(drawn, rows):
            if "has not patched" in (row.get("note") or ""):
                bar.set_hatch("//")
                bar.set_edgecolor("white")
        top = max([v for v in values if v is not None] or [1])
        for i, v in enumerate(values):
            ax.text(v if v is not None else 0, i, " " + (num(v) if v is not None else "failed"),
                    va="center", fontsize=8, color="black" if v is not None else "#c0392b")
        ax.set_xlim(0, top * 1.3)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(range(len(rows)))
    axes[0][0].set_yticklabels(labels, fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def echo_scale_chart(path, rows):
    peers = []
    for row in rows:
        if row["peer"] not in peers:
            peers.append(row["peer"])
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for peer in peers:
        points = [(row["conns"], row["cpu_us_per_msg"], row.get("cpu_us_per_msg_range"))
                  for row in rows if row["peer"] == peer and row.get("ok")]
        if not points:
            continue
        label = next(row["label"] for row in rows if row["peer"] == peer).rsplit(", ", 1)[0]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        ax.plot(xs, ys, marker="o", label=label, color=ECHO_SCALE_COLORS.get(peer))
        for x, _, rng in points:
            if rng and rng[0] != rng[1]:
                ax.vlines(x, rng[0], rng[1], color=ECHO_SCALE_COLORS.get(peer), alpha=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("connections (log scale)")
    ax.set_ylabel("server CPU µs per message (lower is better)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title("Echo ping-pong, 64 B: CPU per message against connections", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
