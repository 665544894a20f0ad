import CGif
import Foundation
import Persistence

/// An animation of same-sized pictures, encoded as a looping GIF89a with Debian's giflib: grey
/// pictures with a 256-level grey palette, colour ones quantised to a 6 x 7 x 6 colour cube
/// (252 colours: red and blue in 6 levels, green in 7).
public struct AnimatedGIF: Sendable {
    /// The frames, in order; all of one size and channel count.
    public let frames: [Picture]
    /// Each frame's duration, in hundredths of a second.
    public let delay: Int

    /// An animation of `frames` (at least one, all the same size), each shown `delay` hundredths of a second.
    public init(frames: [Picture], delay: Int = 10) {
        precondition(!frames.isEmpty, "an animation needs a frame")
        precondition(frames.allSatisfy { $0.width == frames[0].width && $0.height == frames[0].height && $0.channels == frames[0].channels },
                     "every frame needs the first's size and channels")
        precondition((1...65535).contains(delay), "a GIF frame's delay is 1...65535 hundredths of a second")
        (self.frames, self.delay) = (frames, delay)
    }

    /// The palette index of each pixel of `picture`.
    static func indices(_ picture: Picture) -> [GifByteType] {
        if picture.channels == 1 { return picture.pixels }
        var indices = [GifByteType](repeating: 0, count: picture.width * picture.height)
        for pixel in indices.indices {
            let (r, g, b) = (Int(picture.pixels[3 * pixel]), Int(picture.pixels[3 * pixel + 1]), Int(picture.pixels[3 * pixel + 2]))
            let (ri, gi, bi) = ((r * 5 + 127) / 255, (g * 6 + 127) / 255, (b * 5 + 127) / 255)
            indices[pixel] = GifByteType((ri * 7 + gi) * 6 + bi)
        }
        return indices
    }

    /// The palette: 256 greys, or the colour cube padded to 256 entries.
    static func palette(channels: Int) -> [GifColorType] {
        if channels == 1 { return (0..<256).map { GifColorType(Red: GifByteType($0), Green: GifByteType($0), Blue: GifByteType($0)) } }
        var colours: [GifColorType] = []
        for r in 0..<6 { for g in 0..<7 { for b in 0..<6 {
            colours.append(GifColorType(Red: GifByteType(r * 255 / 5), Green: GifByteType(g * 255 / 6), Blue: GifByteType(b * 255 / 5)))
        } } }
        return colours + Array(repeating: GifColorType(Red: 0, Green: 0, Blue: 0), count: 256 - colours.count)
    }

    /// The GIF file's bytes.
    public func gifData() throws(PictureError) -> Data {
        final class Sink { var data = Data() }
        let sink = Sink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        var error: Int32 = 0
        let write: OutputFunc = { file, bytes, length in
            let sink = Unmanaged<Sink>.fromOpaque(file!.pointee.UserData!).takeUnretainedValue()
            sink.data.append(bytes!, count: Int(length))
            return length
        }
        guard let file = EGifOpen(unmanaged.toOpaque(), write, &error) else { throw .encodingFailed(reason: "giflib: " + Self.message(error)) }
        var closed = false
        defer { if !closed { EGifCloseFile(file, &error) } }
        func check(_ status: Int32, _ what: String) throws(PictureError) {
            guard status == GIF_OK else { throw .encodingFailed(reason: "giflib, \(what): " + Self.message(file.pointee.Error)) }
        }
        EGifSetGifVersion(file, true)
        var colours = Self.palette(channels: frames[0].channels)
        guard let map = colours.withUnsafeMutableBufferPointer({ GifMakeMapObject(256, $0.baseAddress) }) else { throw .encodingFailed(reason: "giflib: no colour map") }
        defer { GifFreeMapObject(map) }
        let (width, height) = (Int32(frames[0].width), Int32(frames[0].height))
        try check(EGifPutScreenDesc(file, width, height, 8, 0, map), "screen")
        // Loop for ever (the NETSCAPE2.0 application extension, count 0).
        try check(EGifPutExtensionLeader(file, APPLICATION_EXT_FUNC_CODE), "loop extension")
        try check(Array("NETSCAPE2.0".utf8).withUnsafeBytes { EGifPutExtensionBlock(file, 11, $0.baseAddress) }, "loop extension")
        try check([UInt8]([1, 0, 0]).withUnsafeBytes { EGifPutExtensionBlock(file, 3, $0.baseAddress) }, "loop extension")
        try check(EGifPutExtensionTrailer(file), "loop extension")
        var control = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false, DelayTime: Int32(delay), TransparentColor: NO_TRANSPARENT_COLOR)
        var extensionBytes = [GifByteType](repeating: 0, count: 4)
        let extensionLength = EGifGCBToExtension(&control, &extensionBytes)
        for frame in frames {
            try check(extensionBytes.withUnsafeBytes { EGifPutExtension(file, GRAPHICS_EXT_FUNC_CODE, Int32(extensionLength), $0.baseAddress) }, "frame delay")
            try check(EGifPutImageDesc(file, 0, 0, width, height, false, nil), "frame")
            var pixels = Self.indices(frame)
            try check(pixels.withUnsafeMutableBufferPointer { EGifPutLine(file, $0.baseAddress, Int32($0.count)) }, "frame pixels")
        }
        closed = true
        guard EGifCloseFile(file, &error) == GIF_OK else { throw .encodingFailed(reason: "giflib, closing: " + Self.message(error)) }
        return sink.data
    }

    /// Writes the GIF file atomically.
    public func writeGIF(to url: URL) throws(PictureError) {
        let data = try gifData()
        do { try writeAtomically(data, to: url) } catch { throw .writeFailed(path: url.path, reason: error.reason) }
    }

    static func message(_ code: Int32) -> String { GifErrorString(code).map { String(cString: $0) } ?? "error \(code)" }
}
