"""The predictive model: the torch dynamics ensemble, its training, the load forecaster, fidelity."""

from twin_sidecar.predictive.dynamics import Dynamics, ServingDynamics
from twin_sidecar.predictive.ensemble import DynamicsEnsemble
from twin_sidecar.predictive.fidelity import FidelityReport, FidelityTracker
from twin_sidecar.predictive.forecaster import LoadForecaster
from twin_sidecar.predictive.replay import TransitionReplay
from twin_sidecar.predictive.training import EnsembleTrainer

__all__ = [
    "Dynamics",
    "DynamicsEnsemble",
    "EnsembleTrainer",
    "FidelityReport",
    "FidelityTracker",
    "LoadForecaster",
    "ServingDynamics",
    "TransitionReplay",
]
