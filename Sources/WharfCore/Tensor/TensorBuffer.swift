/// An immutable, reference-counted block of tensor bytes.
///
/// Wharf allocates buffers 64-byte aligned, so TensorFlow can adopt them without a copy; buffers
/// can also wrap memory a runtime owns (an output tensor), released through the given closure
/// when the last `Tensor` viewing it goes away.
public final class TensorBuffer: @unchecked Sendable {
    // @unchecked Sendable: the bytes are written only inside the initializer (`Tensor`'s filling
    // initializers) before the buffer is shared, and are read-only afterwards.

    /// Alignment of buffers Wharf allocates; TensorFlow's own allocator alignment.
    public static let alignment = 64

    /// The first byte.
    public let baseAddress: UnsafeMutableRawPointer
    /// The number of bytes.
    public let byteCount: Int
    private let release: (@Sendable (UnsafeMutableRawPointer) -> Void)?

    /// Allocates an uninitialized buffer of `byteCount` bytes; the caller fills it before sharing.
    public init(byteCount: Int) {
        self.baseAddress = UnsafeMutableRawPointer.allocate(
            byteCount: Swift.max(byteCount, 1), alignment: TensorBuffer.alignment)
        self.byteCount = byteCount
        self.release = nil
    }

    /// Wraps memory owned elsewhere; `release` is called once when the buffer is freed.
    public init(
        wrapping baseAddress: UnsafeMutableRawPointer, byteCount: Int,
        release: @escaping @Sendable (UnsafeMutableRawPointer) -> Void
    ) {
        self.baseAddress = baseAddress
        self.byteCount = byteCount
        self.release = release
    }

    deinit {
        if let release {
            release(baseAddress)
        } else {
            baseAddress.deallocate()
        }
    }
}
