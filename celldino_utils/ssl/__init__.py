"""Self-distillation: DINO, iBOT and KoLeo losses, the projection head and the meta-architecture.

Layer 2 (with ``train``): imports ``models`` and the layers below.
"""

from celldino_utils.ssl.centering import CENTERING_MODES, TeacherCentering, sinkhorn_knopp
from celldino_utils.ssl.dino_loss import DINOLoss
from celldino_utils.ssl.head import DINOHead
from celldino_utils.ssl.ibot_loss import IBOTPatchLoss
from celldino_utils.ssl.koleo_loss import KoLeoLoss
from celldino_utils.ssl.masking import sample_masks
from celldino_utils.ssl.meta_arch import SSLMetaArch, build_meta_arch

__all__ = [
    "CENTERING_MODES",
    "DINOHead",
    "DINOLoss",
    "IBOTPatchLoss",
    "KoLeoLoss",
    "SSLMetaArch",
    "TeacherCentering",
    "build_meta_arch",
    "sample_masks",
    "sinkhorn_knopp",
]
