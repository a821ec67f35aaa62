"""Table cells shared by the experiment summaries: one value, or mean ±
standard deviation over seeds."""
import statistics


def cell(values):
    if len(values) == 1:
        return "%.3f" % values[0]
    return "%.3f ± %.3f" % (statistics.mean(values), statistics.stdev(values))
