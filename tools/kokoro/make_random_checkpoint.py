#!/usr/bin/env python3
"""Write a Kokoro-shaped checkpoint with random weights, for benchmarks and tests.

    python3 tools/kokoro/make_random_checkpoint.py CONFIG.json OUT.pth [--voice OUT_VOICE.pt]
        [--decoder-width 1024] [--asr-width 64] [--seed 0]

The key names and shapes follow the published kokoro-v1_0.pth layout (five state dicts with a
`module.` prefix, weight-norm g/v pairs, no InstanceNorm affine params), derived here from the
architecture description in docs/kokoro.md, not from the reference code. A random model costs
exactly what the real one costs per frame; the duration head is biased so that tokens get about
2-3 frames each, as real speech does (random weights would give ~25). Needs python3-torch.
"""
import argparse, collections, json, torch

ap = argparse.ArgumentParser()
ap.add_argument('config'); ap.add_argument('out'); ap.add_argument('--voice')
ap.add_argument('--decoder-width', type=int, default=1024); ap.add_argument('--asr-width', type=int, default=64)
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()
torch.manual_seed(a.seed)
c = json.load(open(a.config))
H, S, NT = c['hidden_dim'], c['style_dim'], c['n_token']
pb, ist = c['plbert'], c['istftnet']
BH, E, I, MP = pb['hidden_size'], pb.get('embedding_size', 128), pb['intermediate_size'], pb['max_position_embeddings']

def rnd(*shape):
    fan = 1
    for d in shape[1:]: fan *= d
    return torch.randn(*shape) / max(fan, 1) ** 0.5

def lin(d, name, o, i, bias=True):
    d[name + '.weight'] = rnd(o, i)
    if bias: d[name + '.bias'] = torch.randn(o) * 0.02

def wn(d, name, o, i, k, bias=True, transposed=False):
    v = rnd(o, i, k)
    d[name + '.weight_g'] = v.flatten(1).norm(dim=1).view(o, 1, 1) * (0.5 + torch.rand(o, 1, 1))
    d[name + '.weight_v'] = v
    if bias: d[name + '.bias'] = torch.randn(i if transposed else o) * 0.02

def lstm(d, name, i, h):
    for sfx in ['', '_reverse']:
        d[f'{name}.weight_ih_l0{sfx}'] = rnd(4 * h, i); d[f'{name}.weight_hh_l0{sfx}'] = rnd(4 * h, h)
        d[f'{name}.bias_ih_l0{sfx}'] = torch.randn(4 * h) * 0.02; d[f'{name}.bias_hh_l0{sfx}'] = torch.randn(4 * h) * 0.02

def blk(d, name, din, dout, up=False):
    wn(d, name + '.conv1', dout, din, 3); wn(d, name + '.conv2', dout, dout, 3)
    lin(d, name + '.norm1.fc', 2 * din, S); lin(d, name + '.norm2.fc', 2 * dout, S)
    if din != dout: wn(d, name + '.conv1x1', dout, din, 1, bias=False)
    if up: wn(d, name + '.pool', din, 1, 3, transposed=False)

def res1(d, name, ch, k):
    for j in range(3):
        wn(d, f'{name}.convs1.{j}', ch, ch, k); wn(d, f'{name}.convs2.{j}', ch, ch, k)
        lin(d, f'{name}.adain1.{j}.fc', 2 * ch, S); lin(d, f'{name}.adain2.{j}.fc', 2 * ch, S)
        d[f'{name}.alpha1.{j}'] = 0.5 + torch.rand(1, ch, 1); d[f'{name}.alpha2.{j}'] = 0.5 + torch.rand(1, ch, 1)

bert = collections.OrderedDict()
bert['embeddings.word_embeddings.weight'] = torch.randn(NT, E) * 0.1
bert['embeddings.position_embeddings.weight'] = torch.randn(MP, E) * 0.1
bert['embeddings.token_type_embeddings.weight'] = torch.randn(2, E) * 0.1
bert['embeddings.LayerNorm.weight'] = torch.ones(E); bert['embeddings.LayerNorm.bias'] = torch.zeros(E)
lin(bert, 'encoder.embedding_hidden_mapping_in', BH, E)
L = 'encoder.albert_layer_groups.0.albert_layers.0.'
for n in ['query', 'key', 'value', 'dense']: lin(bert, L + 'attention.' + n, BH, BH)
bert[L + 'attention.LayerNorm.weight'] = torch.ones(BH); bert[L + 'attention.LayerNorm.bias'] = torch.zeros(BH)
lin(bert, L + 'ffn', I, BH); lin(bert, L + 'ffn_output', BH, I)
bert[L + 'full_layer_layer_norm.weight'] = torch.ones(BH); bert[L + 'full_layer_layer_norm.bias'] = torch.zeros(BH)
lin(bert, 'pooler', BH, BH)
benc = collections.OrderedDict(); lin(benc, '', H, BH); benc = collections.OrderedDict((k[1:], v) for k, v in benc.items())
pred = collections.OrderedDict()
for l in range(c['n_layer']):
    lstm(pred, f'text_encoder.lstms.{2 * l}', H + S, H // 2); lin(pred, f'text_encoder.lstms.{2 * l + 1}.fc', 2 * H, S)
lstm(pred, 'lstm', H + S, H // 2)
lin(pred, 'duration_proj.linear_layer', c['max_dur'], H)
pred['duration_proj.linear_layer.weight'] *= 0.05
pred['duration_proj.linear_layer.bias'] = torch.full((c['max_dur'],), -2.9)
lstm(pred, 'shared', H + S, H // 2)
for br in ['F0', 'N']:
    blk(pred, f'{br}.0', H, H); blk(pred, f'{br}.1', H, H // 2, up=True); blk(pred, f'{br}.2', H // 2, H // 2)
lin(pred, 'F0_proj', 1, H // 2); pred['F0_proj.weight'] = pred['F0_proj.weight'].view(1, H // 2, 1)
pred['F0_proj.bias'] = torch.tensor([120.0])
lin(pred, 'N_proj', 1, H // 2); pred['N_proj.weight'] = pred['N_proj.weight'].view(1, H // 2, 1)
te = collections.OrderedDict()
te['embedding.weight'] = torch.randn(NT, H) * 0.1
for l in range(c['n_layer']):
    wn(te, f'cnn.{l}.0', H, H, c['text_encoder_kernel_size'])
    te[f'cnn.{l}.1.gamma'] = torch.ones(H); te[f'cnn.{l}.1.beta'] = torch.zeros(H)
lstm(te, 'lstm', H, H // 2)
dec = collections.OrderedDict()
D, A, UC = a.decoder_width, a.asr_width, ist['upsample_initial_channel']
blk(dec, 'encode', H + 2, D)
for i in range(3): blk(dec, f'decode.{i}', D + 2 + A, D)
blk(dec, 'decode.3', D + 2 + A, UC, up=True)
wn(dec, 'F0_conv', 1, 1, 3); wn(dec, 'N_conv', 1, 1, 3); wn(dec, 'asr_res.0', A, H, 1)
lin(dec, 'generator.m_source.l_linear', 1, 9)
nf = ist['gen_istft_n_fft']; ur, uk = ist['upsample_rates'], ist['upsample_kernel_sizes']
for i, (u, k) in enumerate(zip(ur, uk)):
    cin, co = UC >> i, UC >> (i + 1)
    wn(dec, f'generator.ups.{i}', cin, co, k, transposed=True)
    for j, rk in enumerate(ist['resblock_kernel_sizes']): res1(dec, f'generator.resblocks.{i * len(ist["resblock_kernel_sizes"]) + j}', co, rk)
    if i + 1 < len(ur):
        sf = 1
        for r in ur[i + 1:]: sf *= r
        dec[f'generator.noise_convs.{i}.weight'] = rnd(co, nf + 2, sf * 2); dec[f'generator.noise_convs.{i}.bias'] = torch.zeros(co)
        res1(dec, f'generator.noise_res.{i}', co, 7)
    else:
        dec[f'generator.noise_convs.{i}.weight'] = rnd(co, nf + 2, 1); dec[f'generator.noise_convs.{i}.bias'] = torch.zeros(co)
        res1(dec, f'generator.noise_res.{i}', co, 11)
wn(dec, 'generator.conv_post', nf + 2, UC >> len(ur), 7)
pre = lambda d: collections.OrderedDict(('module.' + k, v.contiguous().float()) for k, v in d.items())
torch.save({'bert': pre(bert), 'bert_encoder': pre(benc), 'predictor': pre(pred), 'text_encoder': pre(te), 'decoder': pre(dec)}, a.out)
n = sum(v.numel() for d in [bert, benc, pred, te, dec] for v in d.values())
print(f'{a.out}: {n} parameters')
if a.voice: torch.save(torch.randn(510, 1, 256) * 0.15, a.voice)
