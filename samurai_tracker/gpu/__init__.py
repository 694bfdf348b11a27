"""CUDA glue kernels of the SAMURAI per-frame runtime and their numpy host references.

``glue_kernels.cu`` holds the kernels (crop + resize + normalise from RGB or NV12,
bilinear mask upsampling, fused scale-sigmoid, threshold, mask -> box with atomics,
transposes with bias, bias add, memory-bank assembly, object-pointer temporal encoding).
:class:`GlueOps` runs them on device arrays (torch, CuPy, pycuda) and compiles them on
first use with pycuda or CuPy; :mod:`samurai_tracker.gpu.host_reference` is the numpy
twin of each kernel. Importing this package needs neither pycuda, CuPy nor a GPU.
"""

from samurai_tracker.gpu import host_reference
from samurai_tracker.gpu.conventions import (
    IMAGENET_MEAN, IMAGENET_STD, SIGMOID_BIAS_FOR_MEM_ENC, SIGMOID_SCALE_FOR_MEM_ENC,
    YUV_MATRICES, YuvMatrix, crop_window, yuv_matrix)
from samurai_tracker.gpu.glue_ops import box_from_device, GlueOps
from samurai_tracker.gpu.kernel_module import (
    cuda_device_count, GpuUnavailableError, kernel_source, KernelModule, load_kernel_module)

__all__ = [
    'GlueOps',
    'GpuUnavailableError',
    'IMAGENET_MEAN',
    'IMAGENET_STD',
    'KernelModule',
    'SIGMOID_BIAS_FOR_MEM_ENC',
    'SIGMOID_SCALE_FOR_MEM_ENC',
    'YUV_MATRICES',
    'YuvMatrix',
    'box_from_device',
    'crop_window',
    'cuda_device_count',
    'host_reference',
    'kernel_source',
    'load_kernel_module',
    'yuv_matrix',
]
