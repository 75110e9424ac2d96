#!/usr/bin/env python3
"""Write small seed files for tests/fuzz/fuzz_kokoro_loader: real torch.save and np.savez output
(needs python3-torch and python3-numpy; run from the repository root)."""
import collections, io, numpy as np, torch

out = 'tests/fuzz/corpus/fuzz_kokoro_loader/'
torch.manual_seed(0)
sd = collections.OrderedDict()
sd['module.a.weight'] = torch.randn(3, 4)
sd['module.a.bias'] = torch.randn(3)
sd['module.c.weight_g'] = torch.rand(2, 1, 1)
torch.save({'bert': sd, 'decoder': {'module.x': torch.randn(2, 2, 2)}}, out + 'nested.pth')
torch.save(torch.randn(5, 1, 4), out + 'voice.pt')
torch.save(sd, out + 'state_dict.pt')
np.savez(out + 'voices.npz', af_a=np.ones((2, 1, 4), np.float32), bm_b=np.zeros((3,), np.float32))
np.save(out + 'one.npy', np.arange(6, dtype=np.float32).reshape(2, 3))
