"""Model evaluation: labelled image sets, the MCIP protocol metrics, and a runner that computes them all."""
