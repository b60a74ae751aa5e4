"""Drift monitoring: profiles of training data, and checks of served inputs against them."""
