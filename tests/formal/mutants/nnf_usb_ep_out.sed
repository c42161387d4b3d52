# a write lands while a committed packet is being handed on
s/        if (we \&\& !full_q) mem\[idx\] <= data;/        if (we) mem[idx] <= data;/
