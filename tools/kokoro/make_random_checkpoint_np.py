#!/usr/bin/env python3
"""Write a Kokoro-shaped checkpoint with random weights without PyTorch (Python + NumPy).

    python3 tools/kokoro/make_random_checkpoint_np.py CONFIG.json OUT.pth [--voice OUT_VOICE.pt]
        [--decoder-width 1024] [--asr-width 64] [--seed 0]

Same tensors, shapes and statistics as make_random_checkpoint.py (the torch version): weight-norm
gains |v| * U(0.5, 1.5), fan-in-scaled normal weights, the duration head biased to 2-3 frames per
token. The file is a torch.save archive as torch writes it (format of torch/serialization.py
`_save` and torch/_utils.py `_rebuild_tensor_v2` in pytorch/pytorch): a stored ZIP with
`archive/data.pkl` (pickle protocol 2, persistent ids ('storage', torch.FloatStorage, key,
'cpu', numel)), one member per storage at `archive/data/<key>` aligned to 64 bytes,
`archive/version`. The pickle is written by Python's own pickle module against stand-in
`torch` / `torch._utils` modules, so no torch import is needed. Random numbers differ from the
torch script's (NumPy's generator), the statistics do not. Needs python3-numpy.
"""
import argparse, collections, io, json, pickle, sys, types, zipfile
import numpy as np

# ---- stand-ins for the globals torch.save names -------------------------------------------
_torch = types.ModuleType('torch'); _utils = types.ModuleType('torch._utils')
class FloatStorage: pass
FloatStorage.__module__ = 'torch'; _torch.FloatStorage = FloatStorage
def _rebuild_tensor_v2(*a): raise RuntimeError('stand-in')
_rebuild_tensor_v2.__module__ = 'torch._utils'; _utils._rebuild_tensor_v2 = _rebuild_tensor_v2
_torch._utils = _utils
sys.modules.setdefault('torch', _torch); sys.modules.setdefault('torch._utils', _utils)

class _Storage:
    def __init__(self, key, arr): self.key, self.arr = key, arr

class _Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, tuple(int(s) for s in shape)

class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ('storage', FloatStorage, obj.key, 'cpu', int(obj.arr.size))
        return None
    def reducer_override(self, obj):
        if isinstance(obj, _Tensor):
            stride, acc = [], 1
            for s in reversed(obj.shape):
                stride.insert(0, acc); acc *= max(s, 1)
            return (_rebuild_tensor_v2, (obj.storage, 0, obj.shape, tuple(stride), False,
                                         collections.OrderedDict()))
        return NotImplemented

def torch_save(obj, path):
    """obj: nested dicts of float32 ndarrays (or one ndarray). Writes torch's zip layout."""
    storages = []
    def conv(x):
        if isinstance(x, dict):
            return collections.OrderedDict((k, conv(v)) for k, v in x.items())
        a = np.ascontiguousarray(x, dtype='<f4')
        st = _Storage(str(len(storages)), a); storages.append(st)
        return _Tensor(st, a.shape)
    root = conv(obj)
    buf = io.BytesIO(); _Pickler(buf, protocol=2).dump(root)
    with open(path, 'wb') as fp, zipfile.ZipFile(fp, 'w', zipfile.ZIP_STORED) as z:
        def put(name, data):
            zi = zipfile.ZipInfo('archive/' + name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_STORED
            hdr = fp.tell() + 30 + len(zi.filename.encode())
            pad = (-(hdr + 4)) % 64  # 'FB' extra field, as torch pads, so data starts aligned
            zi.extra = b'FB' + pad.to_bytes(2, 'little') + b'Z' * pad
            z.writestr(zi, data)
        put('data.pkl', buf.getvalue())
        put('byteorder', b'little')
        for st in storages: put('data/' + st.key, st.arr.tobytes())
        put('version', b'3\n')

# ---- the model, as in make_random_checkpoint.py ------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('config'); ap.add_argument('out'); ap.add_argument('--voice')
    ap.add_argument('--decoder-width', type=int, default=1024); ap.add_argument('--asr-width', type=int, default=64)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    g = np.random.default_rng(a.seed)
    randn = lambda *s: g.standard_normal(s, dtype=np.float32)
    c = json.load(open(a.config))
    H, S, NT = c['hidden_dim'], c['style_dim'], c['n_token']
    pb, ist = c['plbert'], c['istftnet']
    BH, E, I, MP = pb['hidden_size'], pb.get('embedding_size', 128), pb['intermediate_size'], pb['max_position_embeddings']

    def rnd(*shape):
        fan = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        return randn(*shape) / np.float32(max(fan, 1) ** 0.5)
    def lin(d, name, o, i, bias=True):
        d[name + '.weight'] = rnd(o, i)
        if bias: d[name + '.bias'] = randn(o) * np.float32(0.02)
    def wn(d, name, o, i, k, bias=True, transposed=False):
        v = rnd(o, i, k)
        norm = np.linalg.norm(v.reshape(o, -1), axis=1).reshape(o, 1, 1)
        d[name + '.weight_g'] = (norm * (0.5 + g.random((o, 1, 1)))).astype(np.float32)
        d[name + '.weight_v'] = v
        if bias: d[name + '.bias'] = randn(i if transposed else o) * np.float32(0.02)
    def lstm(d, name, i, h):
        for sfx in ['', '_reverse']:
            d[f'{name}.weight_ih_l0{sfx}'] = rnd(4 * h, i); d[f'{name}.weight_hh_l0{sfx}'] = rnd(4 * h, h)
            d[f'{name}.bias_ih_l0{sfx}'] = randn(4 * h) * np.float32(0.02)
            d[f'{name}.bias_hh_l0{sfx}'] = randn(4 * h) * np.float32(0.02)
    def blk(d, name, din, dout, up=False):
        wn(d, name + '.conv1', dout, din, 3); wn(d, name + '.conv2', dout, dout, 3)
        lin(d, name + '.norm1.fc', 2 * din, S); lin(d, name + '.norm2.fc', 2 * dout, S)
        if din != dout: wn(d, name + '.conv1x1', dout, din, 1, bias=False)
        if up: wn(d, name + '.pool', din, 1, 3)
    def res1(d, name, ch, k):
        for j in range(3):
            wn(d, f'{name}.convs1.{j}', ch, ch, k); wn(d, f'{name}.convs2.{j}', ch, ch, k)
            lin(d, f'{name}.adain1.{j}.fc', 2 * ch, S); lin(d, f'{name}.adain2.{j}.fc', 2 * ch, S)
            d[f'{name}.alpha1.{j}'] = (0.5 + g.random((1, ch, 1))).astype(np.float32)
            d[f'{name}.alpha2.{j}'] = (0.5 + g.random((1, ch, 1))).astype(np.float32)

    OD = collections.OrderedDict
    bert = OD()
    bert['embeddings.word_embeddings.weight'] = randn(NT, E) * np.float32(0.1)
    bert['embeddings.position_embeddings.weight'] = randn(MP, E) * np.float32(0.1)
    bert['embeddings.token_type_embeddings.weight'] = randn(2, E) * np.float32(0.1)
    bert['embeddings.LayerNorm.weight'] = np.ones(E, np.float32); bert['embeddings.LayerNorm.bias'] = np.zeros(E, np.float32)
    lin(bert, 'encoder.embedding_hidden_mapping_in', BH, E)
    L = 'encoder.albert_layer_groups.0.albert_layers.0.'
    for n in ['query', 'key', 'value', 'dense']: lin(bert, L + 'attention.' + n, BH, BH)
    bert[L + 'attention.LayerNorm.weight'] = np.ones(BH, np.float32); bert[L + 'attention.LayerNorm.bias'] = np.zeros(BH, np.float32)
    lin(bert, L + 'ffn', I, BH); lin(bert, L + 'ffn_output', BH, I)
    bert[L + 'full_layer_layer_norm.weight'] = np.ones(BH, np.float32); bert[L + 'full_layer_layer_norm.bias'] = np.zeros(BH, np.float32)
    lin(bert, 'pooler', BH, BH)
    benc = OD(); lin(benc, '', H, BH); benc = OD((k[1:], v) for k, v in benc.items())
    pred = OD()
    for l in range(c['n_layer']):
        lstm(pred, f'text_encoder.lstms.{2 * l}', H + S, H // 2); lin(pred, f'text_encoder.lstms.{2 * l + 1}.fc', 2 * H, S)
    lstm(pred, 'lstm', H + S, H // 2)
    lin(pred, 'duration_proj.linear_layer', c['max_dur'], H)
    pred['duration_proj.linear_layer.weight'] *= np.float32(0.05)
    pred['duration_proj.linear_layer.bias'] = np.full(c['max_dur'], -2.9, np.float32)
    lstm(pred, 'shared', H + S, H // 2)
    for br in ['F0', 'N']:
        blk(pred, f'{br}.0', H, H); blk(pred, f'{br}.1', H, H // 2, up=True); blk(pred, f'{br}.2', H // 2, H // 2)
    lin(pred, 'F0_proj', 1, H // 2); pred['F0_proj.weight'] = pred['F0_proj.weight'].reshape(1, H // 2, 1)
    pred['F0_proj.bias'] = np.array([120.0], np.float32)
    lin(pred, 'N_proj', 1, H // 2); pred['N_proj.weight'] = pred['N_proj.weight'].reshape(1, H // 2, 1)
    te = OD()
    te['embedding.weight'] = randn(NT, H) * np.float32(0.1)
    for l in range(c['n_layer']):
        wn(te, f'cnn.{l}.0', H, H, c['text_encoder_kernel_size'])
        te[f'cnn.{l}.1.gamma'] = np.ones(H, np.float32); te[f'cnn.{l}.1.beta'] = np.zeros(H, np.float32)
    lstm(te, 'lstm', H, H // 2)
    dec = OD()
    D, A, UC = a.decoder_width, a.asr_width, ist['upsample_initial_channel']
    blk(dec, 'encode', H + 2, D)
    for i in range(3): blk(dec, f'decode.{i}', D + 2 + A, D)
    blk(dec, 'decode.3', D + 2 + A, UC, up=True)
    wn(dec, 'F0_conv', 1, 1, 3); wn(dec, 'N_conv', 1, 1, 3); wn(dec, 'asr_res.0', A, H, 1)
    lin(dec, 'generator.m_source.l_linear', 1, 9)
    nf = ist['gen_istft_n_fft']; ur, uk = ist['upsample_rates'], ist['upsample_kernel_sizes']
    nrk = len(ist['resblock_kernel_sizes'])
    for i, (u, k) in enumerate(zip(ur, uk)):
        cin, co = UC >> i, UC >> (i + 1)
        wn(dec, f'generator.ups.{i}', cin, co, k, transposed=True)
        for j, rk in enumerate(ist['resblock_kernel_sizes']): res1(dec, f'generator.resblocks.{i * nrk + j}', co, rk)
        if i + 1 < len(ur):
            sf = int(np.prod(ur[i + 1:]))
            dec[f'generator.noise_convs.{i}.weight'] = rnd(co, nf + 2, sf * 2); dec[f'generator.noise_convs.{i}.bias'] = np.zeros(co, np.float32)
            res1(dec, f'generator.noise_res.{i}', co, 7)
        else:
            dec[f'generator.noise_convs.{i}.weight'] = rnd(co, nf + 2, 1); dec[f'generator.noise_convs.{i}.bias'] = np.zeros(co, np.float32)
            res1(dec, f'generator.noise_res.{i}', co, 11)
    wn(dec, 'generator.conv_post', nf + 2, UC >> len(ur), 7)
    pre = lambda d: OD(('module.' + k, v) for k, v in d.items())
    torch_save({'bert': pre(bert), 'bert_encoder': pre(benc), 'predictor': pre(pred),
                'text_encoder': pre(te), 'decoder': pre(dec)}, a.out)
    n = sum(v.size for d in [bert, benc, pred, te, dec] for v in d.values())
    print(f'{a.out}: {n} parameters')
    if a.voice: torch_save(randn(510, 1, 256) * np.float32(0.15), a.voice)

if __name__ == '__main__':
    main()
