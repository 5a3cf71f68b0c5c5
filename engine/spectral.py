"""torch.stft and torch.istft, composed as torch composes them (torch/functional.py's center padding, then
aten/src/ATen/native/SpectralOps.cpp): frames are an unfold of the signal, the window a multiply, the transform
one of torch.fft's primitives and the overlap-add unfold's backward, so every gradient comes from those ops.
Argument errors carry torch's repr of the call, which its tests and users' logs quote."""

from __future__ import annotations

from typing import Any

from engine.dtypes import FROM_NP
from engine.fft import BY_N, BY_ROOT_N, NONE, _c2c, _c2r, _r2c
from engine.ops.diagonal import unfold_backward
from engine.tensor import Tensor
from engine.warn import warn_once

_RETURN_REAL_DEPRECATED = (
    "stft with return_complex=False is deprecated. In a future pytorch release, stft will return complex tensors "
    "for all inputs, and return_complex=False will raise an error.\nNote: you can still call torch.view_as_real on "
    "the complex output to recover the old return format."
)
_STFT_NO_WINDOW = (
    "A window was not provided. A rectangular window will be applied,which is known to cause spectral leakage. "
    "Other windows such as torch.hann_window or torch.hamming_window are recommended to reduce spectral leakage."
    "To suppress this warning and use a rectangular window, explicitly set `window=torch.ones(n_fft, "
    "device=<device>)`."
)
_NO_WINDOW = (
    "A window was not provided. A rectangular window will be applied.Please provide the same window used by stft "
    "to make the inversion lossless.To suppress this warning and use a rectangular window, explicitly set "
    "`window=torch.ones(n_fft, device=<device>)`."
)
_SHORT_SIGNAL = (
    "The length of signal is shorter than the length parameter. Result is being padded with zeros in the tail. "
    "Please check your center and hop_length settings."
)
_ONESIDED_COMPLEX = "Cannot have onesided output if window or input is complex"


def _type_name(t: Tensor) -> str:
    """What torch's Tensor::toString prints: the legacy class for real dtypes, the backend type for complex."""
    dt = FROM_NP[t._data.dtype]
    cuda = t.device.type == "cuda"
    if dt.is_complex:
        return ("CUDA" if cuda else "CPU") + dt.legacy.removesuffix("Tensor") + "Type"
    return ("torch.cuda." if cuda else "torch.") + dt.legacy


def _sizes(t: Tensor) -> str:
    return "[" + ", ".join(map(str, t.shape)) + "]"


def _opt(v: Any) -> str:
    return "None" if v is None else str(int(v))


def _window_repr(window: Tensor | None) -> str:
    return "None" if window is None else f"{_type_name(window)}{{{_sizes(window)}}}"


def _centered_window(window: Tensor | None, win_length: int, n_fft: int, like: Tensor) -> Tensor | None:
    """The window zero padded on both sides to n_fft (ones over win_length when none is given)."""
    if win_length >= n_fft:
        return window
    from engine.creation import ones
    from engine.nn.functional import pad

    if window is None:
        window = ones(win_length, dtype=like.dtype, device=like.device)
    left = (n_fft - win_length) // 2
    return pad(window, (left, n_fft - win_length - left))


def stft(
    input: Tensor,  # noqa: A002
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,  # noqa: FBT001, FBT002
    pad_mode: str = "reflect",
    normalized: bool = False,  # noqa: FBT001, FBT002
    onesided: bool | None = None,  # noqa: FBT001
    return_complex: bool | None = None,  # noqa: FBT001
    align_to_window: bool | None = None,  # noqa: FBT001
) -> Tensor:
    """torch.stft: the spectrum of each hop_length-apart, n_fft-long windowed frame, (freq, frame) per signal."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if center:
        from engine.nn.functional import pad

        dims = input.dim()
        half = int(n_fft // 2)
        ext = input.view([1] * (3 - dims) + list(input.shape))
        if ext.is_complex() and pad_mode != "constant":  # (the engine's reflect/replicate pads are real-only)
            from engine.ops.complex import complex as complex_

            ext = complex_(pad(ext.real, [half, half], pad_mode), pad(ext.imag, [half, half], pad_mode))
        else:
            ext = pad(ext, [half, half], pad_mode)
        input = ext  # noqa: A001
        input = input.view(input.shape[-dims:])  # noqa: A001
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length

    def fail(what: str) -> RuntimeError:
        return RuntimeError(
            f"stft({_type_name(input)}{_sizes(input)}, n_fft={n_fft}, hop_length={hop}, win_length={win}, "
            f"window={_window_repr(window)}, normalized={int(normalized)}, onesided={_opt(onesided)}, "
            f"return_complex={_opt(return_complex)}, align_to_window={_opt(align_to_window)}) : {what}"
        )

    if window is None:
        warn_once(_STFT_NO_WINDOW)
    want_complex = (
        return_complex
        if return_complex is not None
        else input.is_complex() or (window is not None and window.is_complex())
    )
    if not want_complex:
        if return_complex is None:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will further require "
                "that return_complex=True in a future PyTorch release."
            )
        warn_once(_RETURN_REAL_DEPRECATED)
    if not (input.is_floating_point() or input.is_complex()):
        raise fail("expected a tensor of floating point or complex values")
    if input.dim() not in (1, 2):
        raise fail("expected a 1D or 2D tensor")
    frames = input if input.dim() == 2 else input.unsqueeze(0)
    length = frames.shape[1]
    if n_fft <= 0 or n_fft > length:
        raise fail(f"expected 0 < n_fft < {length}, but got n_fft={win}")
    if hop <= 0:
        raise fail(f"expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise fail(f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise fail(
            f"expected a 1D window tensor of size equal to win_length={win}, but got window with size {_sizes(window)}"
        )
    full = _centered_window(window, win, n_fft, input)
    if align_to_window and win < n_fft:  # frames start where the window does, not where its padding does
        from engine.nn.functional import pad

        left = (n_fft - win) // 2
        frames = pad(frames, (left, n_fft - win - left))
    frames = frames.unfold(-1, n_fft, hop)
    if full is not None:
        frames = frames * full
    mode = BY_ROOT_N if normalized else NONE
    if frames.is_complex():
        if onesided:
            raise RuntimeError(_ONESIDED_COMPLEX)
        out = _c2c(_fft_ready(frames), (2,), mode, True)
    else:
        out = _r2c(_fft_ready(frames), (2,), mode, True if onesided is None else bool(onesided))
    out.transpose_(1, 2)
    if input.dim() == 1:
        out.squeeze_(0)
    if want_complex:
        return out
    from engine.ops.complex import view_as_real

    return view_as_real(out)


def _fft_ready(x: Tensor) -> Tensor:
    """x, refused as torch's cpu FFT (MKL / pocketfft) refuses a precision it lacks."""
    dt = FROM_NP[x._data.dtype]
    if dt.name not in ("float32", "float64", "complex64", "complex128"):
        raise RuntimeError(f"MKL FFT doesn't support tensors of type: {dt.legacy.removesuffix('Tensor')}")
    return x


def istft(
    input: Tensor,  # noqa: A002
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,  # noqa: FBT001, FBT002
    normalized: bool = False,  # noqa: FBT001, FBT002
    onesided: bool | None = None,  # noqa: FBT001
    length: int | None = None,
    return_complex: bool = False,  # noqa: FBT001, FBT002
) -> Tensor:
    """torch.istft: stft's least-squares inverse, overlap-adding the inverse transforms of the frames."""
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if window is None:
        warn_once(_NO_WINDOW)
    if not input.is_complex():
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with return_complex=True."
        )

    def repr_() -> str:
        return (
            f"istft({_type_name(input)}{_sizes(input)}, n_fft={n_fft}, hop_length={hop}, win_length={win}, "
            f"window={_window_repr(window)}, center={int(center)}, normalized={int(normalized)}, "
            f"onesided={_opt(onesided)}, length={_opt(length)}, return_complex={int(return_complex)})"
        )

    def fail(what: str) -> RuntimeError:
        return RuntimeError(f"{repr_()} : {what}")

    dims = input.dim() + 1  # (torch checks the view_as_real of the input)
    n_frames = input.shape[-1] if dims > 1 else 0
    fft_size = input.shape[-2] if dims > 2 else 0
    expected = n_fft + hop * (n_frames - 1)
    if input.numel() == 0:
        raise fail("input tensor cannot be empty.")
    if dims not in (3, 4):
        raise fail(f"expected a tensor with 3 or 4 dimensions, but got {dims}")
    sided = fft_size != n_fft if onesided is None else bool(onesided)
    if sided and n_fft // 2 + 1 != fft_size:
        raise fail(
            "expected the frequency dimension (3rd to the last) of the input tensor to match n_fft / 2 + 1 when "
            f"onesided=True, but got {fft_size}"
        )
    if not sided and n_fft != fft_size:
        raise fail(
            "expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when "
            f"onesided=False, but got {fft_size}"
        )
    if not 0 < hop <= win:
        raise fail("expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise fail("expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise fail("Invalid window shape. window has to be 1D and length of `win_length`")
    if window is None:
        from engine.creation import ones

        window_full = ones(win, dtype=input.real.dtype, device=input.device)
    else:
        window_full = window
    window_full = _centered_window(window_full, win, n_fft, input)
    spec = (input if dims == 4 else input.unsqueeze(0)).resolve_conj().transpose(1, 2)  # (channel, frame, freq)
    mode = BY_ROOT_N if normalized else BY_N
    if return_complex:
        if sided:
            raise RuntimeError(_ONESIDED_COMPLEX)
        frames = _c2c(spec, (2,), mode, False)
    else:
        if window is not None and window.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not sided:
            spec = spec.narrow(-1, 0, n_fft // 2 + 1)
        frames = _c2r(spec, (2,), mode, n_fft)
    frames = frames * window_full.view(1, 1, n_fft)
    y = unfold_backward(frames, (frames.shape[0], expected), 1, n_fft, hop)
    square = (window_full * window_full).expand(1, n_frames, n_fft)
    envelope = unfold_backward(square, (1, expected), 1, n_fft, hop)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else -(n_fft // 2) if center else expected
    y = y[:, start:end]
    envelope = envelope[:, start:end]
    lowest = envelope.abs().min().lt(1e-11)
    if bool(lowest):
        raise RuntimeError(f"{repr_()} window overlap add min: {int(bool(lowest))}\n[ {_bool_type(input)}{{}} ]")
    y = y / envelope
    if dims == 3:
        y = y.squeeze(0)
    if end > expected:
        warn_once(_SHORT_SIGNAL)
        from engine.nn.functional import pad

        y = pad(y, (0, end - expected))
    return y


def _bool_type(t: Tensor) -> str:
    return "CUDABoolType" if t.device.type == "cuda" else "CPUBoolType"


TORCH = {"stft": stft, "istft": istft}
METHODS = TORCH  # (the signal is the first parameter: the functions serve as the methods)
