// Per-frame glue of the SAMURAI runtime as CUDA C kernels (float32, batch 1).
//
// Every kernel has a numpy twin in samurai_tracker/gpu/host_reference.py; the two are
// written to compute the same function, and the parity script checks them against each
// other (exact for transpose, bias add, threshold and mask -> box; <= 2e-6 for the
// sigmoid; <= 2e-7 for bilinear). The module is compiled with -fmad=false so that the
// float32 arithmetic here rounds operation by operation like numpy's.
//
// Conventions
// - Arrays are dense and row-major unless a pitch (bytes per row) is given.
// - Pixel (x, y) has its centre at (x, y); resampling uses the align_corners=False rule
//   src = (dst + 0.5) * (in / out) - 0.5 and clamps source coordinates to the edge.
// - Pointers may be NULL only where a comment says so.
// - Grids are sized by the Python launcher in samurai_tracker/gpu/glue_ops.py.

#define TILE 32
#define TILE_ROWS 8

extern "C" {

// --------------------------------------------------------------------------------------
// Bilinear blend of the four neighbours a (x0, y0), b (x1, y0), c (x0, y1), d (x1, y1).
__device__ __forceinline__ float lerp2(float a, float b, float c, float d, float wx, float wy)
{
    const float top = a + (b - a) * wx;
    const float bot = c + (d - c) * wx;
    return top + (bot - top) * wy;
}

// Bilinear sample of one channel of an interleaved uint8 image at (fx, fy), both already
// clamped to [0, w - 1] x [0, h - 1].
__device__ __forceinline__ float sample_u8(const unsigned char *img, int pitch, int stride,
                                           int channel, int h, int w, float fx, float fy)
{
    const int x0 = (int)fx, y0 = (int)fy;
    const int x1 = x0 + 1 < w ? x0 + 1 : w - 1;
    const int y1 = y0 + 1 < h ? y0 + 1 : h - 1;
    const float wx = fx - (float)x0, wy = fy - (float)y0;
    return lerp2((float)img[y0 * pitch + x0 * stride + channel],
                 (float)img[y0 * pitch + x1 * stride + channel],
                 (float)img[y1 * pitch + x0 * stride + channel],
                 (float)img[y1 * pitch + x1 * stride + channel], wx, wy);
}

// Source coordinate of output index o for a crop starting at origin with `extent`
// source pixels mapped onto `out` output pixels.
__device__ __forceinline__ float crop_coord(int o, float origin, float extent, int out)
{
    return origin + ((float)o + 0.5f) * (extent / (float)out) - 0.5f;
}

__device__ __forceinline__ float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

// Source point of output pixel idx of an S x S crop: false when its centre lies outside
// the frame ([-0.5, w - 0.5] x [-0.5, h - 0.5]); else fx, fy clamped to [0, w - 1] x
// [0, h - 1], ready for bilinear sampling.
__device__ __forceinline__ bool crop_source(int idx, int size, float crop_x, float crop_y,
                                            float crop_w, float crop_h, int h, int w,
                                            float *fx, float *fy)
{
    const int oy = idx / size, ox = idx % size;
    const float sx = crop_coord(ox, crop_x, crop_w, size);
    const float sy = crop_coord(oy, crop_y, crop_h, size);
    if (sx < -0.5f || sx > (float)w - 0.5f || sy < -0.5f || sy > (float)h - 0.5f) return false;
    *fx = clampf(sx, 0.f, (float)(w - 1));
    *fy = clampf(sy, 0.f, (float)(h - 1));
    return true;
}

// One pixel of the three output planes.
__device__ __forceinline__ void store3(float *out, int idx, int plane, float a, float b,
                                       float c)
{
    out[idx] = a;
    out[plane + idx] = b;
    out[2 * plane + idx] = c;
}

// RGB (or BGR, through the channel order) uint8 frame -> encoder input 1x3xSxS float32.
// src: h x w x 3 bytes, rows `pitch` bytes apart. order[k] is the source channel that
// feeds output channel k (0,1,2 for RGB input, 2,1,0 for BGR). Samples whose centre lies
// outside the frame ([-0.5, w - 0.5] x [-0.5, h - 0.5]) get `pad` (normalised units).
// out[k, y, x] = (v / 255 - mean[k]) * inv_std[k] with v the bilinear sample.
__global__ void crop_resize_normalize_rgb(
    const unsigned char *src, int h, int w, int pitch, int o0, int o1, int o2,
    float crop_x, float crop_y, float crop_w, float crop_h, int size,
    float mean0, float mean1, float mean2, float istd0, float istd1, float istd2,
    float pad, float *out)
{
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= size * size) return;
    const int plane = size * size;
    float fx, fy;
    if (!crop_source(idx, size, crop_x, crop_y, crop_w, crop_h, h, w, &fx, &fy)) {
        store3(out, idx, plane, pad, pad, pad);
        return;
    }
    const float inv255 = 1.0f / 255.0f;
    const float v0 = sample_u8(src, pitch, 3, o0, h, w, fx, fy);
    const float v1 = sample_u8(src, pitch, 3, o1, h, w, fx, fy);
    const float v2 = sample_u8(src, pitch, 3, o2, h, w, fx, fy);
    store3(out, idx, plane, (v0 * inv255 - mean0) * istd0, (v1 * inv255 - mean1) * istd1,
           (v2 * inv255 - mean2) * istd2);
}

// One NV12 pixel -> RGB in [0, 255] (float, not rounded). Chroma is upsampled by nearest
// neighbour (the U/V pair at (x / 2, y / 2)). ky, rv, gu, gv, bu and the offsets y_off,
// c_off select the matrix (BT.601 / BT.709, limited or full range).
__device__ __forceinline__ void nv12_rgb(const unsigned char *yp, int ypitch,
                                         const unsigned char *uvp, int uvpitch, int x, int y,
                                         float ky, float y_off, float c_off, float rv, float gu,
                                         float gv, float bu, float *r, float *g, float *b)
{
    const float yy = ((float)yp[y * ypitch + x] - y_off) * ky;
    const int ci = (y >> 1) * uvpitch + (x >> 1) * 2;
    const float u = (float)uvp[ci] - c_off;
    const float v = (float)uvp[ci + 1] - c_off;
    *r = clampf(yy + rv * v, 0.f, 255.f);
    *g = clampf(yy - gu * u - gv * v, 0.f, 255.f);
    *b = clampf(yy + bu * u, 0.f, 255.f);
}

// NV12 frame (Y plane h x w, interleaved UV plane h/2 x w/2 x 2) -> 1x3xSxS float32, as
// crop_resize_normalize_rgb on the frame converted to RGB by nv12_rgb. h and w are even.
__global__ void crop_resize_normalize_nv12(
    const unsigned char *yp, int ypitch, const unsigned char *uvp, int uvpitch, int h, int w,
    float ky, float y_off, float c_off, float rv, float gu, float gv, float bu,
    float crop_x, float crop_y, float crop_w, float crop_h, int size,
    float mean0, float mean1, float mean2, float istd0, float istd1, float istd2,
    float pad, float *out)
{
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= size * size) return;
    const int plane = size * size;
    float fx, fy;
    if (!crop_source(idx, size, crop_x, crop_y, crop_w, crop_h, h, w, &fx, &fy)) {
        store3(out, idx, plane, pad, pad, pad);
        return;
    }
    const int x0 = (int)fx, y0 = (int)fy;
    const int x1 = x0 + 1 < w ? x0 + 1 : w - 1;
    const int y1 = y0 + 1 < h ? y0 + 1 : h - 1;
    const float wx = fx - (float)x0, wy = fy - (float)y0;
    float ra, ga, ba, rb, gb, bb, rc, gc, bc, rd, gd, bd;
    nv12_rgb(yp, ypitch, uvp, uvpitch, x0, y0, ky, y_off, c_off, rv, gu, gv, bu, &ra, &ga, &ba);
    nv12_rgb(yp, ypitch, uvp, uvpitch, x1, y0, ky, y_off, c_off, rv, gu, gv, bu, &rb, &gb, &bb);
    nv12_rgb(yp, ypitch, uvp, uvpitch, x0, y1, ky, y_off, c_off, rv, gu, gv, bu, &rc, &gc, &bc);
    nv12_rgb(yp, ypitch, uvp, uvpitch, x1, y1, ky, y_off, c_off, rv, gu, gv, bu, &rd, &gd, &bd);
    const float inv255 = 1.0f / 255.0f;
    const float vr = lerp2(ra, rb, rc, rd, wx, wy);
    const float vg = lerp2(ga, gb, gc, gd, wx, wy);
    const float vb = lerp2(ba, bb, bc, bd, wx, wy);
    store3(out, idx, plane, (vr * inv255 - mean0) * istd0, (vg * inv255 - mean1) * istd1,
           (vb * inv255 - mean2) * istd2);
}

// --------------------------------------------------------------------------------------
// Bilinear resize of n planes hi x wi -> ho x wo (mask logits 128 -> 512), PyTorch's
// F.interpolate(mode='bilinear', align_corners=False) rule: the source coordinate is
// clamped below at 0 and the upper neighbour at the last row / column.
__global__ void bilinear_resize(const float *src, int n, int hi, int wi, int ho, int wo,
                                float *dst)
{
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n * ho * wo) return;
    const int plane = idx / (ho * wo);
    const int rem = idx - plane * (ho * wo);
    const int oy = rem / wo, ox = rem % wo;
    const float sy = (float)hi / (float)ho, sx = (float)wi / (float)wo;
    float fy = ((float)oy + 0.5f) * sy - 0.5f;
    float fx = ((float)ox + 0.5f) * sx - 0.5f;
    fy = fy < 0.f ? 0.f : fy;
    fx = fx < 0.f ? 0.f : fx;
    const int y0 = (int)fy, x0 = (int)fx;
    const int y1 = y0 + 1 < hi ? y0 + 1 : hi - 1;
    const int x1 = x0 + 1 < wi ? x0 + 1 : wi - 1;
    const float wy = fy - (float)y0, wx = fx - (float)x0;
    const float *p = src + (size_t)plane * hi * wi;
    dst[idx] = lerp2(p[y0 * wi + x0], p[y0 * wi + x1], p[y1 * wi + x0], p[y1 * wi + x1], wx,
                     wy);
}

// --------------------------------------------------------------------------------------
// Memory-encoder mask input: y = sigmoid(x) * scale + bias (SAM 2.1: scale 20, bias -10).
// The sigmoid is evaluated in the overflow-free form (exp of a non-positive number).
__global__ void scale_sigmoid(const float *x, int n, float scale, float bias, float *y)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float v = x[i];
    float s;
    if (v >= 0.f) {
        s = 1.0f / (1.0f + expf(-v));
    } else {
        const float e = expf(v);
        s = e / (1.0f + e);
    }
    y[i] = s * scale + bias;
}

// Binary mask: y = 1 where x > threshold else 0 (uint8).
__global__ void threshold_mask(const float *x, int n, float threshold, unsigned char *y)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    y[i] = x[i] > threshold ? 1 : 0;
}

// --------------------------------------------------------------------------------------
// Mask -> box. box = [x_min, y_min, x_max, y_max] (int32, inclusive pixel indices) of the
// pixels with x > threshold. mask_box_init writes the empty sentinel [w, h, -1, -1]; it
// must run (in stream order) before mask_box_reduce.
__global__ void mask_box_init(int h, int w, int *box)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        box[0] = w;
        box[1] = h;
        box[2] = -1;
        box[3] = -1;
    }
}

// Each thread scans a grid-stride range, the block combines with warp shuffles and
// shared memory, and one thread per block issues four atomics. blockDim.x is a multiple
// of 32 and at most 1024.
__global__ void mask_box_reduce(const float *x, int h, int w, float threshold, int *box)
{
    int xmin = w, ymin = h, xmax = -1, ymax = -1;
    const int n = h * w;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        if (x[i] > threshold) {
            const int yy = i / w, xx = i - yy * w;
            xmin = min(xmin, xx);
            xmax = max(xmax, xx);
            ymin = min(ymin, yy);
            ymax = max(ymax, yy);
        }
    }
    for (int off = 16; off > 0; off >>= 1) {
        xmin = min(xmin, __shfl_down_sync(0xffffffffu, xmin, off));
        ymin = min(ymin, __shfl_down_sync(0xffffffffu, ymin, off));
        xmax = max(xmax, __shfl_down_sync(0xffffffffu, xmax, off));
        ymax = max(ymax, __shfl_down_sync(0xffffffffu, ymax, off));
    }
    __shared__ int part[4][32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int nwarps = blockDim.x >> 5;
    if (lane == 0) {
        part[0][warp] = xmin;
        part[1][warp] = ymin;
        part[2][warp] = xmax;
        part[3][warp] = ymax;
    }
    __syncthreads();
    if (warp == 0) {
        xmin = lane < nwarps ? part[0][lane] : w;
        ymin = lane < nwarps ? part[1][lane] : h;
        xmax = lane < nwarps ? part[2][lane] : -1;
        ymax = lane < nwarps ? part[3][lane] : -1;
        for (int off = 16; off > 0; off >>= 1) {
            xmin = min(xmin, __shfl_down_sync(0xffffffffu, xmin, off));
            ymin = min(ymin, __shfl_down_sync(0xffffffffu, ymin, off));
            xmax = max(xmax, __shfl_down_sync(0xffffffffu, xmax, off));
            ymax = max(ymax, __shfl_down_sync(0xffffffffu, ymax, off));
        }
        if (lane == 0 && xmax >= 0) {
            atomicMin(&box[0], xmin);
            atomicMin(&box[1], ymin);
            atomicMax(&box[2], xmax);
            atomicMax(&box[3], ymax);
        }
    }
}

// --------------------------------------------------------------------------------------
// Tiled transpose with an optional bias: src [rows, cols] -> dst [cols, rows],
// dst[j, i] = src[i, j] + bias[bias_axis == 0 ? i : j]. bias may be NULL (no add).
// [1, C, H, W] -> [H*W, 1, C] is rows = C, cols = H*W; the way back swaps them.
// Block (TILE, TILE_ROWS); grid (ceil(cols / TILE), ceil(rows / TILE)).
__global__ void transpose_bias(const float *src, int rows, int cols, const float *bias,
                               int bias_axis, float *dst)
{
    __shared__ float tile[TILE][TILE + 1];
    const int c0 = blockIdx.x * TILE, r0 = blockIdx.y * TILE;
    for (int k = threadIdx.y; k < TILE; k += TILE_ROWS) {
        const int r = r0 + k, c = c0 + threadIdx.x;
        if (r < rows && c < cols) {
            float v = src[(size_t)r * cols + c];
            if (bias != 0) v += bias[bias_axis == 0 ? r : c];
            tile[k][threadIdx.x] = v;
        }
    }
    __syncthreads();
    for (int k = threadIdx.y; k < TILE; k += TILE_ROWS) {
        const int c = c0 + k, r = r0 + threadIdx.x;
        if (r < rows && c < cols) dst[(size_t)c * rows + r] = tile[threadIdx.x][k];
    }
}

// Row-broadcast bias add: y[r, c] = x[r, c] + bias[c] for x of shape [rows, cols]
// (for example [H*W, 1, 256] + no_mem_embed). y may alias x.
__global__ void add_bias(const float *x, int rows, int cols, const float *bias, float *y)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * cols) return;
    y[i] = x[i] + bias[i % cols];
}

// --------------------------------------------------------------------------------------
// Memory bank for the memory-attention model, built in one launch.
//   slot_feat[s], slot_pos[s]: device pointers to [dim, hw] (memory-encoder layout
//       [1, 64, h, w]), s < n_slots; two entries may point at one buffer (cold start).
//   tpos: [n_tpos, dim] temporal encodings; slot s adds row tpos_index[s].
//   ptrs: [n_ptr, split * dim] object pointers; ptr_pos: [n_ptr, dim]; both may be NULL
//       when n_ptr == 0.
// Output memory and memory_pos: [n_slots * hw + n_ptr * split, 1, dim] with
//   memory[s*hw + p, c]     = slot_feat[s][c*hw + p]
//   memory_pos[s*hw + p, c] = slot_pos[s][c*hw + p] + tpos[tpos_index[s], c]
//   memory[T + i*split + j, c] = ptrs[i, j*dim + c], memory_pos[...] = ptr_pos[i, c]
// with T = n_slots * hw. Grid (ceil(hw / TILE), ceil(dim / TILE), n_slots + 1), block
// (TILE, TILE_ROWS); the last z-slice copies the pointer tokens.
__global__ void assemble_memory_bank(
    const unsigned long long *slot_feat, const unsigned long long *slot_pos,
    const int *tpos_index, const float *tpos, int n_slots, int hw, int dim,
    const float *ptrs, const float *ptr_pos, int n_ptr, int split,
    float *memory, float *memory_pos)
{
    const int s = blockIdx.z;
    if (s == n_slots) {
        const int n_tok = n_ptr * split;
        const int nthreads = gridDim.x * gridDim.y * blockDim.x * blockDim.y;
        const int tid = ((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.y + threadIdx.y)
                        * blockDim.x + threadIdx.x;
        const size_t base = (size_t)n_slots * hw * dim;
        for (int e = tid; e < n_tok * dim; e += nthreads) {
            const int t = e / dim, c = e - t * dim;
            const int i = t / split, j = t - i * split;
            memory[base + e] = ptrs[(size_t)i * split * dim + j * dim + c];
            memory_pos[base + e] = ptr_pos[(size_t)i * dim + c];
        }
        return;
    }
    __shared__ float tf[TILE][TILE + 1];
    __shared__ float tp[TILE][TILE + 1];
    const float *feat = (const float *)slot_feat[s];
    const float *pos = (const float *)slot_pos[s];
    const float *trow = tpos + (size_t)tpos_index[s] * dim;
    const int p0 = blockIdx.x * TILE, c0 = blockIdx.y * TILE;
    for (int k = threadIdx.y; k < TILE; k += TILE_ROWS) {
        const int c = c0 + k, p = p0 + threadIdx.x;
        if (c < dim && p < hw) {
            tf[k][threadIdx.x] = feat[(size_t)c * hw + p];
            tp[k][threadIdx.x] = pos[(size_t)c * hw + p] + trow[c];
        }
    }
    __syncthreads();
    const size_t out0 = (size_t)s * hw;
    for (int k = threadIdx.y; k < TILE; k += TILE_ROWS) {
        const int p = p0 + k, c = c0 + threadIdx.x;
        if (c < dim && p < hw) {
            memory[(out0 + p) * dim + c] = tf[threadIdx.x][k];
            memory_pos[(out0 + p) * dim + c] = tp[threadIdx.x][k];
        }
    }
}

// Temporal encoding of object pointers (SAM 2.1, proj_tpos_enc_in_obj_ptrs):
//   pe = [sin(q / t_k), cos(q / t_k)], q = rel_pos[i] / t_diff_max,
//   t_k = temperature ** (2 * (k // 2) / half), k < half = tpos_dim / 2,
//   out[i, c] = bias[c] + sum_k weight[c, k] * pe[k]   (weight [dim, tpos_dim]).
// One block per pointer; dynamic shared memory holds tpos_dim floats.
__global__ void obj_ptr_tpos_encode(const float *rel_pos, int n_ptr, float t_diff_max,
                                    float temperature, const float *weight, const float *bias,
                                    int tpos_dim, int dim, float *out)
{
    extern __shared__ float pe[];
    const int i = blockIdx.x;
    if (i >= n_ptr) return;
    const int half = tpos_dim / 2;
    const float q = rel_pos[i] / t_diff_max;
    for (int k = threadIdx.x; k < half; k += blockDim.x) {
        const float expo = (float)(2 * (k / 2)) / (float)half;
        const float t = powf(temperature, expo);
        const float a = q / t;
        pe[k] = sinf(a);
        pe[half + k] = cosf(a);
    }
    __syncthreads();
    for (int c = threadIdx.x; c < dim; c += blockDim.x) {
        float acc = 0.f;
        const float *wrow = weight + (size_t)c * tpos_dim;
        for (int k = 0; k < tpos_dim; ++k) acc += wrow[k] * pe[k];
        out[(size_t)i * dim + c] = acc + bias[c];
    }
}

}  // extern "C"
